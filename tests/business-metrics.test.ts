// Business metrics end to end: the real handlers behind the local gateways and DynamoDB Local publish
// their EMF documents once per invocation (collected in memory by the laptop runtime, as CloudWatch
// would extract them in AWS), exactly when the event happened, never for retries or refusals, and
// never with anything from the request in them.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Runtime } from '../local/runtime.ts';
import { message } from './support/fakes.ts';
import { bearer, connectAs, logIn, outbox, requestCode, signUp, type Account } from './support/identity.ts';
import { eventually, request, startTestRuntime, type TestSocket } from './support/runtime.ts';

let rt: Runtime;
let ada: Account;
let bob: Account;
const sockets: TestSocket[] = [];

before(async () => {
  rt = await startTestRuntime();
  [ada, bob] = [await signUp(rt, { displayName: 'Ada' }), await signUp(rt, { displayName: 'Bob' })];
});
after(async () => {
  await Promise.all(sockets.map((s) => s.close().catch(() => undefined)));
  await rt?.stop();
});

/** Runs `act` and returns the EMF documents its invocations published. */
async function published(act: () => Promise<unknown>) {
  const before = rt.metrics.documents.length;
  await act();
  return rt.metrics.documents.slice(before);
}

describe('business metrics through the real handlers', () => {
  test('MessagesSent: one per stored message over HTTP and WebSocket; retries of a stored message publish nothing', async () => {
    const opened = await request(rt.httpUrl, 'POST', '/api/conversations', { body: { userId: bob.userId }, headers: bearer(ada.accessToken) });
    assert.equal(opened.status, 201, opened.text);
    const path = `/api/conversations/${opened.json.conversationId}/messages`;
    const body = message(randomUUID());
    const start = rt.metrics.sum('MessagesSent');

    const first = await published(async () => assert.equal((await request(rt.httpUrl, 'POST', path, { body, headers: bearer(ada.accessToken) })).status, 201));
    assert.equal(first.length, 1, 'one document for the invocation');
    assert.equal(first[0]!.MessagesSent, 1);
    const retry = await published(async () => assert.equal((await request(rt.httpUrl, 'POST', path, { body, headers: bearer(ada.accessToken) })).status, 200));
    assert.deepEqual(retry, [], 'an idempotent retry stores nothing and counts nothing');

    const socket = await connectAs(rt, bob.accessToken);
    sockets.push(socket);
    const frame = { action: 'sendMessage', to: ada.userId, ...message(randomUUID()) };
    for (let i = 0; i < 2; i++) {
      socket.send(frame);
      assert.equal((await socket.next((f) => f.type === 'ack')).clientMessageId, frame.clientMessageId);
    }
    socket.send({ ...frame, to: bob.userId, clientMessageId: randomUUID() });
    assert.equal((await socket.next((f) => f.type === 'error')).code, 'cannot_message_self');
    // the socket's acks may arrive before their invocations end (and publish): wait for the count to settle
    await eventually(
      async () => rt.metrics.sum('MessagesSent') - start,
      (n) => n >= 2,
    );
    assert.equal(rt.metrics.sum('MessagesSent') - start, 2, 'one HTTP and one WebSocket message; retries and the refused send count nothing');
  });

  test('LoginFailures: a refused login publishes one, a successful one none', async () => {
    const refused = await published(async () => assert.equal((await logIn(rt, ada.email, 'not-the-password')).status, 401));
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.LoginFailures, 1);
    assert.deepEqual(await published(async () => assert.equal((await logIn(rt, ada.email, ada.password)).status, 200)), []);
  });

  test('ReportsFiled: a new report publishes one; the same report filed again none', async () => {
    const file = () => request(rt.httpUrl, 'POST', '/api/reports', { body: { targetUserId: bob.userId, reason: 'spam' }, headers: bearer(ada.accessToken) });
    const filed = await published(async () => assert.equal((await file()).status, 201));
    assert.deepEqual(
      filed.map((d) => d.ReportsFiled),
      [1],
    );
    assert.deepEqual(await published(async () => assert.equal((await file()).status, 200)), []);
  });

  test('OtpsSent by channel: one per code the worker delivered, none for a request that delivers nothing', async () => {
    await outbox(rt); // the sign-up codes are delivered
    const delivered = async () => (await outbox(rt)).length;
    const [codes, email, sms] = [await delivered(), rt.metrics.sum('OtpsSent', { channel: 'email' }), rt.metrics.sum('OtpsSent', { channel: 'sms' })];
    assert.equal(rt.metrics.sum('OtpsSent'), codes, 'every code in the outbox was counted once, as the total');
    assert.equal(email + sms, codes);

    assert.equal((await requestCode(rt, '+14155550142', 'register', 'sms')).status, 202);
    assert.equal((await requestCode(rt, 'never-registered@example.test', 'login')).status, 202); // queued, dropped: nothing delivered
    assert.equal(await delivered(), codes + 1);
    assert.deepEqual(
      [rt.metrics.sum('OtpsSent'), rt.metrics.sum('OtpsSent', { channel: 'email' }), rt.metrics.sum('OtpsSent', { channel: 'sms' })],
      [codes + 1, email, sms + 1],
    );
  });

  test('documents are valid EMF in the NexChat namespace and carry nothing from the requests', () => {
    assert.ok(rt.metrics.documents.length > 0);
    for (const doc of rt.metrics.documents) {
      const [directive] = doc._aws.CloudWatchMetrics;
      assert.equal(directive!.Namespace, 'NexChat');
      assert.deepEqual(directive!.Dimensions[0], ['service', 'stage']);
      const keys = Object.keys(doc).filter((k) => k !== '_aws');
      const allowed = new Set(['service', 'stage', 'channel', ...directive!.Metrics.map((m) => m.Name)]);
      assert.deepEqual(
        keys.filter((k) => !allowed.has(k)),
        [],
        'only dimensions and values',
      );
    }
    const text = JSON.stringify(rt.metrics.documents);
    for (const secret of [ada.accessToken, ada.refreshToken, ada.email, ada.password, ada.userId, message('x').ciphertext]) assert.ok(!text.includes(secret));
  });
});
