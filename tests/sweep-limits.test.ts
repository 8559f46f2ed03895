// The attacker's sweep, part two (its own process: one runtime per process): link requests and claims
// under the default per-address limits, so a link secret cannot be brute-forced from one address.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import nacl from 'tweetnacl';
import { rateLimitNames } from '../contract/route.ts';
import type { Runtime } from '../local/runtime.ts';
import { signUp } from './support/identity.ts';
import { request, startTestRuntime } from './support/runtime.ts';

let rt: Runtime;
before(async () => {
  const generous = Object.fromEntries(rateLimitNames.map((k) => [k, { limit: 10_000, windowSeconds: 60 }]));
  rt = await startTestRuntime({
    // the shipped limits of the two public link routes (functions/core/config.ts)
    RATE_LIMITS: JSON.stringify({ ...generous, linkIp: { limit: 10, windowSeconds: 600 }, linkClaimIp: { limit: 120, windowSeconds: 300 } }),
  });
});
after(async () => rt?.stop());

const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
const post = (path: string, body: unknown, headers: Record<string, string> = {}) => request(rt.httpUrl, 'POST', path, { body, headers });

test('link requests stop at 10 per address, claims at 120 guesses, and the right secret is refused too once limited', async () => {
  const a = await signUp(rt);
  const links: { linkId: string; linkSecret: string; publicKey: string }[] = [];
  for (let i = 0; i < 10; i++) {
    const publicKey = b64(nacl.box.keyPair().publicKey);
    const r = await post('/api/devices/links', { publicKey, deviceName: `d${i}` });
    assert.equal(r.status, 201, r.text);
    links.push({ ...r.json, publicKey });
  }
  const eleventh = await post('/api/devices/links', { publicKey: links[0]!.publicKey, deviceName: 'x' });
  assert.equal(eleventh.status, 429, eleventh.text);
  const n = links[0]!;
  const sender = nacl.box.keyPair();
  const nonce = nacl.randomBytes(24);
  const approve = await request(rt.httpUrl, 'POST', `/api/devices/links/${n.linkId}/approve`, {
    headers: { authorization: `Bearer ${a.accessToken}` },
    body: {
      ciphertext: b64(nacl.box(new Uint8Array(64), nonce, Buffer.from(n.publicKey, 'base64'), sender.secretKey)),
      nonce: b64(nonce),
      publicKey: b64(sender.publicKey),
      password: a.password,
    },
  });
  assert.equal(approve.status, 204, approve.text);
  for (let i = 0; i < 120; i++) {
    const r = await post(`/api/devices/links/${n.linkId}/claim`, { linkSecret: randomBytes(32).toString('base64url') });
    assert.equal(r.status, 404, `guess ${i}: ${r.text}`);
  }
  const limited = await post(`/api/devices/links/${n.linkId}/claim`, { linkSecret: n.linkSecret });
  assert.equal(limited.status, 429, limited.text);
  assert.equal(limited.json.error.code, 'rate_limited');
  rt.clock.advance(601_000); // two windows: the sliding window has forgotten the guesses
  const claimed = await post(`/api/devices/links/${n.linkId}/claim`, { linkSecret: n.linkSecret });
  assert.equal(claimed.status, 404, 'by then the link itself has expired (5 minutes): guessing across windows gains nothing either');
});
