// Per-client rate limits through the gateway with their real (small) numbers: exactly N successes
// then 429 with Retry-After and RateLimit headers, exact under concurrency, keyed by the gateway's
// source IP (a forged X-Forwarded-For changes nothing).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Runtime } from '../local/runtime.ts';
import { request, startTestRuntime, testEnv } from './support/runtime.ts';
import { bearer, connectAs, logIn, requestCode, signUp, uniqueEmail } from './support/identity.ts';

let rt: Runtime;
const limits = {
  ...JSON.parse(testEnv.RATE_LIMITS),
  loginAccount: { limit: 5, windowSeconds: 300 },
  otpRequestDestination: { limit: 3, windowSeconds: 900 },
  registerIp: { limit: 50, windowSeconds: 30 },
  refreshIp: { limit: 7, windowSeconds: 300 },
  ticketUser: { limit: 3, windowSeconds: 300 },
  sendUser: { limit: 4, windowSeconds: 60 },
  searchUser: { limit: 2, windowSeconds: 300 },
  conversationUser: { limit: 2, windowSeconds: 3600 },
};

before(async () => {
  rt = await startTestRuntime({ RATE_LIMITS: JSON.stringify(limits) });
});
after(async () => rt?.stop());

function assert429(res: { status: number; headers: Headers; json: any }, name: string, what: RegExp) {
  assert.equal(res.status, 429);
  const retry = Number(res.headers.get('retry-after'));
  assert.ok(Number.isInteger(retry) && retry >= 1, `Retry-After ${res.headers.get('retry-after')}`);
  assert.match(res.headers.get('ratelimit-policy') ?? '', new RegExp(`^"${name}";q=\\d+;w=\\d+$`));
  assert.match(res.headers.get('ratelimit') ?? '', new RegExp(`^"${name}";r=0;t=${retry}$`));
  assert.equal(res.json.error.code, 'rate_limited');
  assert.equal(res.json.error.details.retryAfterSeconds, retry);
  assert.match(res.json.error.message, what);
}

describe('per-client rate limits', () => {
  test('login: exactly 5 attempts per account, then 429 (also for unknown accounts)', async () => {
    for (const email of [(await signUp(rt)).email, uniqueEmail('ghost')]) {
      const results = [];
      for (let i = 0; i < 7; i++) results.push(await logIn(rt, email, 'wrong-password-000'));
      assert.deepEqual(
        results.map((r) => r.status),
        [401, 401, 401, 401, 401, 429, 429],
      );
      assert429(results[5]!, 'loginAccount', /login attempts for this account/);
    }
  });

  test('the right password is refused too once the account is limited', async () => {
    const a = await signUp(rt);
    for (let i = 0; i < 5; i++) await logIn(rt, a.email, 'wrong-password-000');
    assert.equal((await logIn(rt, a.email, a.password)).status, 429);
  });

  test('OTP requests: exactly 3 per destination under 20 concurrent requests', async () => {
    const email = uniqueEmail('flood');
    const results = await Promise.all(Array.from({ length: 20 }, () => requestCode(rt, email, 'register')));
    const limited = results.filter((r) => r.status === 429 && r.json.error.details.limited === 'codes sent to this destination');
    // the counter lets exactly 3 through; of those, a racing twin may still meet the resend delay
    assert.equal(limited.length, 17, results.map((r) => r.status).join());
    assert.ok(results.filter((r) => r.status === 202).length >= 1);
    assert.ok(results.every((r) => r.status === 202 || r.status === 429));
    assert429(limited[0]!, 'otpRequestDestination', /codes sent to this destination/);
  });

  test('refresh: exactly 7 per client IP, counted exactly under concurrency; X-Forwarded-For is ignored', async () => {
    const a = await signUp(rt);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        request(rt.httpUrl, 'POST', '/api/auth/refresh', { body: { refreshToken: a.refreshToken }, headers: { 'x-forwarded-for': `198.51.100.${i}` } }),
      ),
    );
    assert.equal(results.filter((r) => r.status !== 429).length, 7, results.map((r) => r.status).join());
    assert429(
      results.find((r) => r.status === 429)!,
      'refreshIp',
      /token refreshes from this address/,
    );
  });
});

describe('per-user limits on signed-in routes', () => {
  test("tickets, searches and sends are counted per account: one user cannot use up everyone's share", async () => {
    const [a, b] = [await signUp(rt), await signUp(rt)];
    const tickets = [];
    for (let i = 0; i < 4; i++) tickets.push(await request(rt.httpUrl, 'POST', '/api/ws/ticket', { headers: bearer(a.accessToken) }));
    assert.deepEqual(
      tickets.map((r) => r.status),
      [201, 201, 201, 429],
    );
    assert429(tickets[3]!, 'ticketUser', /WebSocket tickets for this account/);
    assert.equal((await request(rt.httpUrl, 'POST', '/api/ws/ticket', { headers: bearer(b.accessToken) })).status, 201, 'another user is unaffected');

    const searches = [];
    for (let i = 0; i < 3; i++)
      searches.push(
        (await request(rt.httpUrl, 'GET', `/api/users/search?q=${encodeURIComponent(uniqueEmail('probe'))}`, { headers: bearer(b.accessToken) })).status,
      );
    assert.deepEqual(searches, [200, 200, 429], 'exact lookups cannot be used to enumerate accounts at speed');

    const s = await connectAs(rt, b.accessToken);
    const frames = [];
    for (let i = 0; i < 5; i++) {
      s.send({
        action: 'sendMessage',
        to: a.userId,
        clientMessageId: `limit-test-${i}-${Date.now()}`,
        ciphertext: Buffer.alloc(32).toString('base64'),
        nonce: Buffer.alloc(24).toString('base64'),
        senderKeyVersion: 1,
        recipientKeyVersion: 1,
      });
      frames.push(await s.next((f) => f.type === 'ack' || f.type === 'error'));
    }
    assert.deepEqual(
      frames.map((f) => f.type),
      ['ack', 'ack', 'ack', 'ack', 'error'],
    );
    assert.equal(frames[4].code, 'rate_limited');
    assert.ok(frames[4].details.retryAfterSeconds >= 1);
    await s.close();
  });

  test('new conversations are counted wherever they start: a first message counts like POST /api/conversations', async () => {
    const a = await signUp(rt);
    const targets = [await signUp(rt), await signUp(rt), await signUp(rt)];
    assert.equal(
      (await request(rt.httpUrl, 'POST', '/api/conversations', { headers: bearer(a.accessToken), body: { userId: targets[0]!.userId } })).status,
      201,
    );
    assert.equal(
      (await request(rt.httpUrl, 'POST', '/api/conversations', { headers: bearer(a.accessToken), body: { userId: targets[0]!.userId } })).status,
      200,
      'reopening is free',
    );
    const s = await connectAs(rt, a.accessToken);
    const frame = (to: string) => ({
      action: 'sendMessage',
      to,
      clientMessageId: `conv-limit-${to}`,
      ciphertext: Buffer.alloc(32).toString('base64'),
      nonce: Buffer.alloc(24).toString('base64'),
      senderKeyVersion: 1,
      recipientKeyVersion: 1,
    });
    s.send(frame(targets[1]!.userId));
    assert.equal((await s.next((f) => f.type === 'ack' || f.type === 'error')).type, 'ack');
    s.send(frame(targets[2]!.userId));
    const refused = await s.next((f) => f.type === 'ack' || f.type === 'error');
    assert.equal(refused.code, 'rate_limited');
    assert.match(refused.message, /conversations opened by this account/);
    await s.close();
  });
});
