// The OTP request path end to end (real handlers, local gateway, DynamoDB Local, the in-process OTP
// queue): a request for a known identifier and one for an unknown identifier make the same DynamoDB
// calls (counted by a middleware on the handlers' own DynamoDB client) and put one message each on
// the queue; the worker drops the undeliverable one without sending it, and no log line, queued
// message or outbox line holds the address it was asked for. Timing: bench/otp-timing.ts.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { otpPurposes, type OtpPurpose } from '../contract/auth/schemas.ts';
import type { Runtime } from '../local/runtime.ts';
import { captureOutput } from './support/capture.ts';
import { logIn, outbox, requestCode, signUp, uniqueEmail, type Account } from './support/identity.ts';
import { startTestRuntime } from './support/runtime.ts';

let rt: Runtime;
/** `Command table` of every DynamoDB call the handlers make, in order. */
const dynamoCalls: string[] = [];
/** Every message body put on the OTP queue. */
const queued: string[] = [];
let withPassword: Account;
let passwordless: Account;

type Next = (args: { input: Record<string, unknown> }) => Promise<unknown>;
type Stack = { add(mw: unknown, options: { step: 'initialize'; name: string; priority: 'high' }): void };

before(async () => {
  rt = await startTestRuntime();
  const platform = await import('../functions/wiring/platform.ts');
  const tableIds = new Map(Object.entries(platform.config().tables).map(([id, name]) => [name, id]));
  (platform.db().client.middlewareStack as unknown as Stack).add(
    (next: Next, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
      dynamoCalls.push(`${context.commandName} ${tableIds.get(args.input.TableName as string) ?? '?'}`);
      return next(args);
    },
    { step: 'initialize', name: 'countCalls', priority: 'high' },
  );
  const queue = rt.queues.otp;
  const send = queue.send.bind(queue);
  queue.send = (body: string) => {
    queued.push(body);
    return send(body);
  };
  [withPassword, passwordless] = await Promise.all([signUp(rt, { email: uniqueEmail('pw') }), signUp(rt, { email: uniqueEmail('nopw'), passwordless: true })]);
});
after(async () => rt?.stop());
beforeEach(async () => {
  await rt.queues.otp.drained();
  dynamoCalls.length = 0;
  queued.length = 0;
});

/** The DynamoDB calls and queued messages of one request, with the queue drained after it. */
async function measured(fn: () => Promise<unknown>): Promise<{ calls: string[]; messages: Record<string, unknown>[] }> {
  await rt.queues.otp.drained();
  dynamoCalls.length = 0;
  queued.length = 0;
  await fn();
  await rt.queues.otp.drained();
  return { calls: [...dynamoCalls], messages: queued.map((b) => JSON.parse(b)) };
}

describe('known and unknown identifiers cost the OTP request the same', () => {
  for (const purpose of otpPurposes) {
    test(`${purpose}: the same DynamoDB calls and one queued message, for a free address, a password account and a passwordless one`, async () => {
      const identifiers = { unknown: uniqueEmail('free'), password: withPassword.email, passwordless: passwordless.email };
      const seen = new Map<string, { calls: string[]; messages: Record<string, unknown>[] }>();
      for (const [kind, destination] of Object.entries(identifiers)) {
        seen.set(
          kind,
          await measured(async () => {
            const res = await requestCode(rt, destination, purpose as OtpPurpose);
            assert.equal(res.status, 202, res.text);
          }),
        );
      }
      const unknown = seen.get('unknown')!;
      assert.deepEqual(unknown.calls, [
        'UpdateItemCommand ephemeral', // otpRequestIp
        'UpdateItemCommand ephemeral', // otpRequestDestination
        'GetItemCommand users', // the claim
        'GetItemCommand users', // the profile (a never-existing one for a free address)
        'PutItemCommand ephemeral', // the challenge
      ]);
      for (const kind of ['password', 'passwordless']) {
        assert.deepEqual(seen.get(kind)!.calls, unknown.calls, `${kind} account: same DynamoDB calls as an unknown address`);
      }
      for (const [kind, { messages }] of seen) assert.equal(messages.length, 1, `${kind}: one queued message`);
      const delivered = [...seen].filter(([, s]) => s.messages[0]!.deliver === true).map(([kind]) => kind);
      assert.equal(delivered.length, 1, `exactly one of the three is deliverable for ${purpose}`);
    });
  }

  test('login: a wrong password for an account and any password for an unknown address make the same DynamoDB calls', async () => {
    const known = await measured(async () => assert.equal((await logIn(rt, withPassword.email, 'not-the-password')).status, 401));
    const unknown = await measured(async () => assert.equal((await logIn(rt, uniqueEmail('nobody'), 'not-the-password')).status, 401));
    assert.deepEqual(known.calls, unknown.calls);
    assert.deepEqual(known.messages, []);
  });
});

describe('the worker drops what must go nowhere', () => {
  test('an undeliverable code is never sent, and its address is in no log line, queued message or outbox line', async () => {
    const nowhere = uniqueEmail('nowhere');
    const somewhere = passwordless.email;
    const logs = await captureOutput(async () => {
      await rt.queues.otp.drained();
      queued.length = 0;
      assert.equal((await requestCode(rt, nowhere, 'login')).status, 202); // no account: undeliverable
      assert.equal((await requestCode(rt, somewhere, 'login')).status, 202); // passwordless account: delivered
      await rt.queues.otp.drained();
    }, 'DEBUG');
    assert.equal(queued.length, 2);
    const [dropped, sent] = queued.map((b) => JSON.parse(b));
    assert.deepEqual(
      { ...dropped, expiresAt: 0 },
      { deliver: false, channel: 'email', destination: '#'.repeat(nowhere.length), purpose: 'login', code: '000000', expiresAt: 0 },
    );
    assert.equal(sent.deliver, true);
    assert.equal(sent.destination, somewhere);

    const lines = await outbox(rt);
    assert.ok(
      lines.some((l) => l.destination === somewhere && l.code === sent.code),
      'the deliverable code reached the outbox',
    );
    assert.ok(!lines.some((l) => l.destination === nowhere || l.destination === dropped.destination), 'nothing was sent for the unknown address');
    assert.deepEqual(rt.queues.otp.deadLetters, [], 'dropped, not failed: nothing retried or dead-lettered');
    assert.match(logs, /"otp delivery"/, 'the worker did log its batches');
    assert.ok(!logs.includes(nowhere), 'no log line names the address');
    assert.ok(!queued.some((b) => b.includes(nowhere)), 'no queued message names the address');
  });
});
