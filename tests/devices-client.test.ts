// Linked devices through the client SDK, against the real local gateway: three parties, two devices
// of A and one of B. The new device asks, A's first device scans its code, both show the same
// verification code, A approves and the new device claims the account's keys. Then B writes: both of
// A's devices open it, and the new one also opens what B wrote before it was linked. A revoked
// device is told and signed out.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  DEVICE_REVOKED_CLOSE_CODE,
  LinkMismatch,
  NexChatClient,
  generateDeviceKeys,
  linkQrPayload,
  linkVerificationCode,
  open,
  parseLinkQr,
  publicKeyUpload,
  seal,
  type DeviceKeys,
  type Tokens,
} from '../client/index.ts';
import type { Runtime } from '../local/runtime.ts';
import { lastCode, uniqueEmail } from './support/identity.ts';
import { startTestRuntime } from './support/runtime.ts';

let rt: Runtime;
before(async () => {
  rt = await startTestRuntime();
});
after(async () => rt?.stop());

const PASSWORD = 'client-side-secret-1';

async function signedUp(name: string, deviceName: string) {
  const client = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl });
  const email = uniqueEmail('link');
  await client.requestOtp('email', email, 'register');
  const user = await client.register({ email, displayName: name, password: PASSWORD, code: await lastCode(rt, email, 'register'), deviceName });
  const keys = generateDeviceKeys();
  await client.request('PUT', '/api/users/public-key', publicKeyUpload(keys));
  return { client, user, keys, email };
}

/** Every frame of a socket, in order, and a way to wait for one. */
function frames(ws: WebSocket) {
  const got: any[] = [];
  ws.addEventListener('message', (e) => got.push(JSON.parse(String(e.data))));
  return {
    got,
    async next(type: string, ms = 5000): Promise<any> {
      const deadline = Date.now() + ms;
      for (;;) {
        const i = got.findIndex((f) => f.type === type);
        if (i >= 0) return got.splice(i, 1)[0];
        if (Date.now() > deadline) throw new Error(`no ${type} frame (got ${got.map((f) => f.type).join(', ')})`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

function sendTo(ws: WebSocket, to: { userId: string; publicKey: string; version: number }, text: string, from: DeviceKeys) {
  ws.send(
    JSON.stringify({
      action: 'sendMessage',
      to: to.userId,
      clientMessageId: randomUUID(),
      ...seal(text, to.publicKey, from),
      senderKeyVersion: 1,
      recipientKeyVersion: to.version,
    }),
  );
}

describe('linking through the SDK', () => {
  test('QR payload and verification code: nothing secret in the code, the same six digits on both screens', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const payload = linkQrPayload(`dl_${'ab'.repeat(16)}`, key);
    assert.ok(payload.startsWith('nexchat://link?v=1&id=dl_'), payload);
    assert.deepEqual(parseLinkQr(payload), { linkId: `dl_${'ab'.repeat(16)}`, publicKey: key });
    assert.match(linkVerificationCode(key), /^\d{6}$/);
    assert.equal(linkVerificationCode(key), linkVerificationCode(parseLinkQr(payload).publicKey));
    assert.notEqual(linkVerificationCode(key), linkVerificationCode(Buffer.alloc(32, 8).toString('base64')));
    assert.throws(() => parseLinkQr('https://evil.example/?id=x'), /Not a NexChat link code/);
    assert.throws(() => parseLinkQr(payload.replace('v=1', 'v=2')), /Not a NexChat link code/);
  });

  test('two devices of A and one of B: after the link both of A’s devices read B, and the new one reads the history too', async (t) => {
    const a = await signedUp('Ada', 'Ada laptop');
    const b = await signedUp('Bob', 'Bob phone');
    const aEntry = await b.client.request('GET', `/api/users/${a.user.userId}/public-key`);
    const bEntry = await a.client.request('GET', `/api/users/${b.user.userId}/public-key`);

    // before the link: B writes to A
    const bSocket = await b.client.connect();
    const bFrames = frames(bSocket);
    sendTo(bSocket, aEntry, 'sent before the phone existed', b.keys);
    const firstAck = await bFrames.next('ack');

    // the new device asks; the laptop scans its code and both screens show the same digits
    let phoneTokens: Tokens | null = null;
    const phone = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl, onTokens: (t) => (phoneTokens = t) });
    const request = await phone.requestLink('Ada phone');
    assert.ok(!request.qrPayload.includes(request.linkSecret), 'the QR code holds no secret');
    const scanned = parseLinkQr(request.qrPayload);
    assert.equal(linkVerificationCode(scanned.publicKey), request.verificationCode, 'both screens agree');

    const laptopSocket = await a.client.connect();
    const laptopFrames = frames(laptopSocket);
    await assert.rejects(a.client.approveLink({ ...scanned, publicKey: Buffer.alloc(32, 1).toString('base64') }, a.keys, { password: PASSWORD }), LinkMismatch);
    await a.client.approveLink(scanned, a.keys, { password: PASSWORD });
    const linked = await phone.waitForLink(request, 50);
    assert.equal((linked.user as { userId: string }).userId, a.user.userId);
    assert.ok(phoneTokens, 'the phone is signed in');
    assert.deepEqual(Buffer.from(linked.keys.box.secretKey), Buffer.from(a.keys.box.secretKey), 'the account’s box key arrived');
    assert.deepEqual(Buffer.from(linked.keys.identity.publicKey), Buffer.from(a.keys.identity.publicKey), 'and its identity key');
    const notice = await laptopFrames.next('deviceLinked');
    assert.equal(notice.deviceId, linked.deviceId);
    assert.equal(notice.name, 'Ada phone');

    // the directory did not change: same version, same safety number
    assert.deepEqual(await b.client.request('GET', `/api/users/${a.user.userId}/public-key`), aEntry);
    assert.deepEqual(
      (await phone.devices()).map((d) => [d.name, d.current]),
      [
        ['Ada laptop', false],
        ['Ada phone', true],
      ],
    );

    // after the link: B writes, both of A's devices read it
    const phoneSocket = await phone.connect();
    const phoneFrames = frames(phoneSocket);
    sendTo(bSocket, aEntry, 'sent after the link', b.keys);
    await bFrames.next('ack');
    const [onLaptop, onPhone] = await Promise.all([laptopFrames.next('message'), phoneFrames.next('message')]);
    assert.equal(open(onLaptop, bEntry.publicKey, a.keys), 'sent after the link');
    assert.equal(open(onPhone, bEntry.publicKey, linked.keys), 'sent after the link');

    // and the phone reads what B sent before it was linked
    const history = await phone.request('GET', `/api/conversations/${firstAck.conversationId}/messages`);
    const texts = history.messages.map((m: { ciphertext: string; nonce: string }) => open(m, bEntry.publicKey, linked.keys));
    assert.deepEqual(texts.sort(), ['sent after the link', 'sent before the phone existed']);

    // the phone writes back as A; B opens it with A's one published key
    sendTo(phoneSocket, bEntry, 'hello from the phone', linked.keys);
    assert.equal(open(await bFrames.next('message'), aEntry.publicKey, b.keys), 'hello from the phone');

    // revoking the phone from the laptop: the phone is told, signed out, and its socket closes
    const closed = new Promise<number>((resolve) => phoneSocket.addEventListener('close', (e) => resolve(e.code)));
    await a.client.revokeDevice(linked.deviceId, { password: PASSWORD });
    const code = await closed;
    // the SDK closes with 4003 on the notice; the server's own close (1000 locally) may land first
    assert.ok(code === DEVICE_REVOKED_CLOSE_CODE || code === 1000 || code === 1005, `closed with ${code}`);
    t.diagnostic(`the revoked phone's socket closed with ${code}`);
    assert.equal(phone.signedIn, false, 'the SDK signed the phone out');
    assert.equal(phoneTokens, null, 'and told the app');
    assert.deepEqual(
      (await a.client.devices()).map((d) => d.name),
      ['Ada laptop'],
    );
    for (const ws of [bSocket, laptopSocket]) ws.close();
  });

  test('relayed keys that are not the account’s published ones are refused, and the new device is signed out', async () => {
    const a = await signedUp('Gil', 'Gil laptop');
    const phone = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl });
    const request = await phone.requestLink('Gil phone');
    // what a relay that swapped the box could hand over: a well-formed box of keys of its own choosing
    await a.client.approveLink({ linkId: request.linkId, publicKey: request.publicKey }, generateDeviceKeys(), { password: PASSWORD });
    await assert.rejects(phone.claimLink(request), (e: { code?: string }) => e.code === 'link_keys_mismatch');
    assert.equal(phone.signedIn, false, 'signed out: the session the claim opened is ended');
    // the genuine keys still link
    const again = await phone.requestLink('Gil phone');
    await a.client.approveLink({ linkId: again.linkId, publicKey: again.publicKey }, a.keys, { password: PASSWORD });
    const linked = await phone.claimLink(again);
    assert.equal((linked.user as { userId: string }).userId, (a.user as { userId: string }).userId);
  });

  test('a claim before the approval is refused like an unknown link; waitForLink gives up when the request expires', async () => {
    const phone = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl });
    const request = await phone.requestLink('Too early');
    await assert.rejects(phone.claimLink(request), (e: { status?: number; code?: string }) => e.status === 404 && e.code === 'link_not_found');
    const sleeps: number[] = [];
    await assert.rejects(
      // a deadline that a busy machine's first claim cannot outlast, so at least one poll sleeps
      phone.waitForLink({ ...request, expiresAt: Date.now() + 1500 }, 100, async (ms) => {
        sleeps.push(ms);
        await new Promise((r) => setTimeout(r, ms));
      }),
      (e: { code?: string }) => e.code === 'link_not_found',
    );
    assert.ok(sleeps.length >= 1, 'it polled');
    assert.equal(phone.signedIn, false);
  });
});
