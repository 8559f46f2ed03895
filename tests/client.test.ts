// The client SDK against the real local gateway: transparent refresh on 401 (one refresh for any
// number of waiting requests, each retried once), a clean sign-out when refresh fails, and an
// encrypted conversation between two SDK clients using only public keys from the directory.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SignJWT, base64url } from 'jose';
import type { Runtime } from '../local/runtime.ts';
import { deriveKeys } from '../functions/core/signing-keys.ts';
import {
  KEEP_ALIVE_MS,
  NexChatClient,
  SessionExpired,
  generateDeviceKeys,
  open,
  publicKeyUpload,
  seal,
  verifyPublishedKey,
  type KeepAliveTimers,
  type Tokens,
} from '../client/index.ts';
import { startTestRuntime } from './support/runtime.ts';
import { lastCode, uniqueEmail } from './support/identity.ts';

let rt: Runtime;
before(async () => {
  rt = await startTestRuntime();
});
after(async () => rt?.stop());

/** Counts calls per path, so tests can see how many refreshes really happened. */
function countingFetch() {
  const calls: string[] = [];
  const f: typeof fetch = (input, init) => {
    calls.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
    return fetch(input, init);
  };
  return { calls, f };
}

async function signedUpClient(extra: Partial<ConstructorParameters<typeof NexChatClient>[0]> = {}) {
  const client = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl, ...extra });
  const email = uniqueEmail('sdk');
  await client.requestOtp('email', email, 'register');
  const user = await client.register({ email, displayName: 'SDK User', password: 'client-side-secret-1', code: await lastCode(rt, email, 'register') });
  return { client, user, email };
}

/** An access token that expired a minute ago, for the same user and session. */
async function expired(accessToken: string): Promise<string> {
  const claims = JSON.parse(new TextDecoder().decode(base64url.decode(accessToken.split('.')[1]!)));
  const keys = deriveKeys(JSON.parse(readFileSync(process.env.NEXCHAT_DEV_SECRETS_FILE!, 'utf8')));
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: claims.sid, role: claims.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: keys.current.kid })
    .setIssuer(claims.iss)
    .setAudience(claims.aud)
    .setSubject(claims.sub)
    .setIssuedAt(now - 1000)
    .setExpirationTime(now - 60)
    .setJti(randomUUID())
    .sign(keys.current.accessKey);
}

describe('transparent refresh', () => {
  test('16 concurrent calls with an expired access token: one refresh, all 16 succeed', async () => {
    const saved: (Tokens | null)[] = [];
    const { client } = await signedUpClient({ onTokens: (t) => saved.push(t) });
    const tokens = saved.at(-1)!;
    const { calls, f } = countingFetch();
    const stale = new NexChatClient({
      baseUrl: rt.httpUrl,
      wsUrl: rt.wsUrl,
      tokens: { ...tokens, accessToken: await expired(tokens.accessToken) },
      fetch: f,
      onTokens: (t) => saved.push(t),
    });
    const results = await Promise.all(Array.from({ length: 16 }, () => stale.request('GET', '/api/users/me')));
    assert.ok(results.every((r) => r.user.displayName === 'SDK User'));
    assert.equal(calls.filter((c) => c === 'POST /api/auth/refresh').length, 1, 'exactly one refresh');
    assert.equal(calls.filter((c) => c === 'GET /api/users/me').length, 32, 'each request tried twice');
    assert.notEqual(saved.at(-1)!.refreshToken, tokens.refreshToken, 'the rotated tokens were handed to the app');
    void client;
  });

  test('when the refresh itself fails every waiting call rejects with SessionExpired and the app hears null', async () => {
    const saved: (Tokens | null)[] = [];
    const { client } = await signedUpClient({ onTokens: (t) => saved.push(t) });
    const tokens = saved.at(-1)!;
    await client.request('POST', '/api/auth/refresh', { refreshToken: tokens.refreshToken }); // rotates: the saved refresh token is now spent
    const { calls, f } = countingFetch();
    const events: (Tokens | null)[] = [];
    const stale = new NexChatClient({
      baseUrl: rt.httpUrl,
      wsUrl: rt.wsUrl,
      tokens: { ...tokens, accessToken: await expired(tokens.accessToken) },
      fetch: f,
      onTokens: (t) => events.push(t),
    });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => stale.request('GET', '/api/users/me')));
    assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof SessionExpired));
    assert.equal(calls.filter((c) => c === 'POST /api/auth/refresh').length, 1);
    assert.deepEqual(events, [null]);
    assert.equal(stale.signedIn, false);
  });

  test('auth routes never trigger a refresh; API errors carry status, code and Retry-After', async () => {
    const { f, calls } = countingFetch();
    const client = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl, fetch: f });
    await assert.rejects(
      client.login({ email: uniqueEmail('nobody'), password: 'whatever-123' }),
      (e: any) => e.status === 401 && e.code === 'invalid_credentials',
    );
    assert.deepEqual(calls, ['POST /api/auth/login']);
  });

  test('a 401 about a proof (a wrong reauth code) is not a dead token: no refresh, no retry', async () => {
    const { f, calls } = countingFetch();
    const client = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl, fetch: f });
    const email = uniqueEmail('sdk-nopw');
    await client.requestOtp('email', email, 'register');
    await client.register({ email, displayName: 'No Password', code: await lastCode(rt, email, 'register') });
    await client.requestOtp('email', email, 'reauth');
    const code = await lastCode(rt, email, 'reauth');
    calls.length = 0;
    await assert.rejects(
      client.request('DELETE', '/api/users/me', { code: code === '000000' ? '000001' : '000000' }),
      (e: any) => e.status === 401 && e.code === 'invalid_code',
    );
    assert.deepEqual(calls, ['DELETE /api/users/me'], 'one call, no refresh');
    assert.equal(client.signedIn, true);
    await client.request('DELETE', '/api/users/me', { code });
  });
});

describe('an encrypted conversation between two SDK clients', () => {
  test('keys from the directory, a sealed message over the socket, opened by the recipient only', async () => {
    const alice = await signedUpClient();
    const bob = await signedUpClient();
    const [aKeys, bKeys] = [generateDeviceKeys(), generateDeviceKeys()];
    await alice.client.request('PUT', '/api/users/public-key', publicKeyUpload(aKeys));
    await bob.client.request('PUT', '/api/users/public-key', publicKeyUpload(bKeys));
    const bobEntry = await alice.client.request('GET', `/api/users/${bob.user.userId}/public-key`);
    assert.equal(verifyPublishedKey(bobEntry), true);
    assert.equal(verifyPublishedKey({ ...bobEntry, publicKey: publicKeyUpload(aKeys).publicKey }), false);

    const bobSocket = await bob.client.connect();
    const received = new Promise<any>((resolve) =>
      bobSocket.addEventListener('message', (e) => {
        const frame = JSON.parse(String(e.data));
        if (frame.type === 'message') resolve(frame);
      }),
    );
    const aliceSocket = await alice.client.connect();
    aliceSocket.send(
      JSON.stringify({
        action: 'sendMessage',
        to: bob.user.userId,
        clientMessageId: randomUUID(),
        ...seal('hi Bob', bobEntry.publicKey, aKeys),
        senderKeyVersion: 1,
        recipientKeyVersion: bobEntry.version,
      }),
    );
    const frame = await received;
    const aliceEntry = await bob.client.request('GET', `/api/users/${alice.user.userId}/public-key`);
    assert.equal(open(frame, aliceEntry.publicKey, bKeys), 'hi Bob');
    assert.equal(open(frame, aliceEntry.publicKey, generateDeviceKeys()), null, 'nobody else can open it');
    aliceSocket.close();
    bobSocket.close();
  });
});

/** Timers that run only when told: the keep-alive's interval, its period, and whether it was cleared. */
function fakeTimers() {
  const intervals: { fn: () => void; ms: number; cleared: boolean }[] = [];
  const timers: KeepAliveTimers = {
    setInterval(fn, ms) {
      intervals.push({ fn, ms, cleared: false });
      return intervals.length - 1;
    },
    clearInterval(handle) {
      intervals[handle as number]!.cleared = true;
    },
  };
  return { intervals, timers };
}

/** Frames of one type as they arrive on the socket. */
function framesOf(socket: WebSocket, type: string) {
  const got: any[] = [];
  socket.addEventListener('message', (e) => {
    const frame = JSON.parse(String(e.data));
    if (frame.type === type) got.push(frame);
  });
  return got;
}

async function until(check: () => boolean, what: string, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("keep-alive under API Gateway's 10-minute idle timeout", () => {
  test('every 5 minutes by default a ping the server answers with pong; closing the socket stops it', async () => {
    const { intervals, timers } = fakeTimers();
    const { client } = await signedUpClient({ timers });
    assert.equal(KEEP_ALIVE_MS, 5 * 60_000);
    const socket = await client.connect();
    assert.equal(intervals.length, 1, 'one keep-alive interval per socket');
    assert.equal(intervals[0]!.ms, KEEP_ALIVE_MS);
    const pongs = framesOf(socket, 'pong');
    intervals[0]!.fn();
    await until(() => pongs.length === 1, 'the first pong');
    intervals[0]!.fn();
    await until(() => pongs.length === 2, 'the second pong');
    assert.ok(!Number.isNaN(Date.parse(pongs[1].time)));

    const closed = new Promise((resolve) => socket.addEventListener('close', resolve, { once: true }));
    socket.close();
    await closed;
    assert.equal(intervals[0]!.cleared, true, 'closing the socket clears the interval');
    intervals[0]!.fn(); // a late tick on a closed socket sends nothing and throws nothing
  });

  test('configurable: a short interval with real timers pings on its own; 0 turns it off; 10 minutes or more is refused', async () => {
    const { client } = await signedUpClient({ keepAliveMs: 30 });
    const socket = await client.connect();
    const pongs = framesOf(socket, 'pong');
    await until(() => pongs.length >= 2, 'two pongs from a 30 ms keep-alive');
    socket.close();

    const off = fakeTimers();
    const { client: quiet } = await signedUpClient({ keepAliveMs: 0, timers: off.timers });
    (await quiet.connect()).close();
    assert.equal(off.intervals.length, 0);

    for (const keepAliveMs of [10 * 60_000, 20 * 60_000, -1, Number.NaN]) {
      assert.throws(() => new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl, keepAliveMs }), RangeError, String(keepAliveMs));
    }
  });
});
