// Auto-restriction through the gateway with its default rules: reports count only from people the
// target really wrote to, whose accounts are old enough (REPORTER_MIN_AGE_HOURS, 72 h by
// default). Throwaway accounts and strangers can fill the queue, never silence anyone. Time moves by
// the runtime's clock, never by sleeping.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Runtime } from '../local/runtime.ts';
import { request, startTestRuntime } from './support/runtime.ts';
import { bearer, logIn, signUp, type Account } from './support/identity.ts';

let rt: Runtime;
const HOUR = 3600_000;
const MIN_AGE_HOURS = 72; // the documented default, deliberately not overridden here

before(async () => {
  rt = await startTestRuntime({ AUTO_RESTRICT_REPORTERS: '3' });
});
after(async () => rt?.stop());

const post = (who: Account, path: string, body?: unknown) =>
  request(rt.httpUrl, 'POST', path, { headers: bearer(who.accessToken), ...(body === undefined ? {} : { body }) });

/** After the clock moved past the access tokens' life, sign in again (as an app would refresh). */
async function fresh(...accounts: Account[]): Promise<void> {
  for (const a of accounts) {
    const res = await logIn(rt, a.email, a.password);
    assert.equal(res.status, 200, res.text);
    a.accessToken = res.json.accessToken;
  }
}

/** `from` writes one message to `to` over HTTP; returns the message id. */
async function writeTo(from: Account, to: Account): Promise<string> {
  const conv = await post(from, '/api/conversations', { userId: to.userId });
  assert.ok([200, 201].includes(conv.status), conv.text);
  const sent = await post(from, `/api/conversations/${conv.json.conversationId}/messages`, {
    clientMessageId: randomUUID(),
    ciphertext: Buffer.alloc(48, 7).toString('base64'),
    nonce: Buffer.alloc(24, 9).toString('base64'),
    senderKeyVersion: 1,
    recipientKeyVersion: 1,
  });
  assert.ok([200, 201].includes(sent.status), sent.text);
  return sent.json.messageId;
}

const report = (reporter: Account, target: Account, extra: Record<string, unknown> = {}) =>
  post(reporter, '/api/reports', { targetUserId: target.userId, reason: 'spam', ...extra });

/** Can the target still open a conversation with someone new? (201, or 403 account_restricted) */
async function opensNew(target: Account): Promise<number> {
  const res = await post(target, '/api/conversations', { userId: (await signUp(rt)).userId });
  if (res.status === 403) assert.equal(res.json.error.code, 'account_restricted');
  return res.status;
}

describe('auto-restriction counts only reporters who heard from the target', () => {
  test('ten strangers with old accounts reporting one user restrict nobody; every report still reaches the queue', async () => {
    const victim = await signUp(rt);
    const strangers = await Promise.all(Array.from({ length: 10 }, () => signUp(rt)));
    rt.clock.advance((MIN_AGE_HOURS + 1) * HOUR);
    await fresh(victim, ...strangers);
    for (const s of strangers) assert.equal((await report(s, victim)).status, 201);
    assert.equal(await opensNew(victim), 201);
  });

  test('three conversation partners the target wrote to, with old enough accounts, still restrict it', async () => {
    const target = await signUp(rt);
    const partners = [await signUp(rt), await signUp(rt), await signUp(rt)];
    for (const p of partners) await writeTo(target, p);
    rt.clock.advance((MIN_AGE_HOURS + 1) * HOUR);
    await fresh(target, ...partners);
    assert.equal((await report(partners[0]!, target)).status, 201);
    assert.equal((await report(partners[1]!, target)).status, 201);
    assert.equal(await opensNew(target), 201, 'two: not yet');
    assert.equal((await report(partners[2]!, target)).status, 201);
    assert.equal(await opensNew(target), 403, 'three: restricted until a moderator acts');
  });

  test('a young account does not count until it is old enough', async () => {
    const target = await signUp(rt);
    const [a, b] = [await signUp(rt), await signUp(rt)];
    rt.clock.advance(2 * HOUR);
    const young = await signUp(rt);
    await fresh(target, a, b);
    await writeTo(target, a);
    await writeTo(target, b);
    const toYoung = await writeTo(target, young);
    rt.clock.advance((MIN_AGE_HOURS - 2) * HOUR + 60_000); // a and b are old enough, young is 2 h short
    await fresh(target, a, b, young);
    for (const r of [a, b, young]) assert.equal((await report(r, target)).status, 201);
    assert.equal(await opensNew(target), 201, 'the young account’s report does not count');

    rt.clock.advance(2 * HOUR);
    await fresh(target, young);
    assert.equal((await report(young, target, { messageIds: [toYoung] })).status, 201);
    assert.equal(await opensNew(target), 403, 'old enough now: the third reporter counts');
  });
});
