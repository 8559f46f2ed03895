// OTP delivery through a queue: the worker's rules (checked messages, expired codes dropped, only
// failed sends retried, nothing secret in events) and the laptop's queue emulation (a failed
// message comes back, then goes to the dead-letter list after maxReceiveCount attempts).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deliverOtps } from '../../functions/core/otp-delivery.ts';
import type { OtpMessage } from '../../functions/core/ports.ts';
import { LocalQueue } from '../../local/queue.ts';
import { FakeMetrics } from '../support/fakes.ts';

const now = 1_800_000_000_000;
const message = (over: Partial<OtpMessage> = {}) =>
  JSON.stringify({ deliver: true, channel: 'email', destination: 'ada@example.test', purpose: 'login', code: '042137', expiresAt: now + 60_000, ...over });

function world(failFor: (m: OtpMessage) => boolean = () => false) {
  const sent: OtpMessage[] = [];
  const events: { name: string; data: Record<string, unknown> }[] = [];
  const metrics = new FakeMetrics();
  return {
    sent,
    events,
    metrics,
    deps: {
      metrics,
      clock: { now: () => now },
      events: { record: (name: string, data: Record<string, unknown>) => void events.push({ name, data }) },
      notifier: {
        async sendOtp(m: OtpMessage) {
          if (failFor(m)) throw Object.assign(new Error('Throttling'), { name: 'ThrottlingException' });
          sent.push(m);
        },
      },
    },
  };
}

describe('the OTP delivery worker', () => {
  test('sends each valid message, retries only the failed ones, drops expired and malformed ones', async () => {
    const w = world((m) => m.destination === 'down@example.test');
    const retry = await deliverOtps(w.deps, [
      { id: 'ok', body: message(), receiveCount: 1 },
      { id: 'down', body: message({ destination: 'down@example.test' }), receiveCount: 2 },
      { id: 'expired', body: message({ expiresAt: now - 1 }), receiveCount: 1 },
      { id: 'garbage', body: '{"channel":"fax"}', receiveCount: 1 },
      { id: 'not-json', body: 'hello', receiveCount: 1 },
    ]);
    assert.deepEqual(retry, ['down']);
    assert.deepEqual(
      w.sent.map((m) => m.destination),
      ['ada@example.test'],
    );
    assert.deepEqual(w.events.map((e) => e.name).sort(), ['otp_delivery_failed', 'otp_expired_in_queue', 'otp_message_malformed', 'otp_message_malformed']);
    const failed = w.events.find((e) => e.name === 'otp_delivery_failed')!;
    assert.deepEqual(failed.data, { messageId: 'down', channel: 'email', attempt: 2, errorName: 'ThrottlingException' });
    assert.doesNotMatch(JSON.stringify(w.events), /042137|@example\.test/, 'events hold no code and no destination');
    assert.deepEqual(w.metrics.counted, [{ name: 'OtpsSent', dimensions: { channel: 'email' } }], 'only the code handed to SES/SNS counts');
  });

  test('counts OtpsSent by channel once per code handed over, also when a retry finally succeeds', async () => {
    let down = true;
    const w = world((m) => m.channel === 'sms' && down);
    const sms = message({ channel: 'sms', destination: '+14155550100' });
    assert.deepEqual(
      await deliverOtps(w.deps, [
        { id: 'mail', body: message(), receiveCount: 1 },
        { id: 'text', body: sms, receiveCount: 1 },
      ]),
      ['text'],
    );
    assert.deepEqual([w.metrics.total('OtpsSent', { channel: 'email' }), w.metrics.total('OtpsSent', { channel: 'sms' })], [1, 0]);
    down = false;
    assert.deepEqual(await deliverOtps(w.deps, [{ id: 'text', body: sms, receiveCount: 2 }]), []);
    assert.deepEqual([w.metrics.total('OtpsSent', { channel: 'email' }), w.metrics.total('OtpsSent', { channel: 'sms' })], [1, 1]);
  });
});

describe('undeliverable messages', () => {
  test('are dropped by the worker: no send, no event, no retry, also when they expired in the queue', async () => {
    const w = world();
    const placeholder = { deliver: false, destination: '#'.repeat('ada@example.test'.length), code: '000000' };
    const retry = await deliverOtps(w.deps, [
      { id: 'nowhere', body: message(placeholder), receiveCount: 1 },
      { id: 'nowhere-expired', body: message({ ...placeholder, expiresAt: now - 1 }), receiveCount: 1 },
      { id: 'real', body: message(), receiveCount: 1 },
    ]);
    assert.deepEqual(retry, []);
    assert.deepEqual(
      w.sent.map((m) => m.destination),
      ['ada@example.test'],
    );
    assert.deepEqual(w.events, []);
    assert.equal(w.metrics.total('OtpsSent'), 1, 'placeholders are not codes sent');
  });

  test('a message without the flag is malformed: the request path always says whether to deliver', async () => {
    const w = world();
    const { deliver: _omitted, ...old } = JSON.parse(message()) as OtpMessage;
    await deliverOtps(w.deps, [{ id: 'old', body: JSON.stringify(old), receiveCount: 1 }]);
    assert.deepEqual(w.sent, []);
    assert.deepEqual(
      w.events.map((e) => e.name),
      ['otp_message_malformed'],
    );
  });
});

describe('the local queue (SQS + event source mapping stand-in)', () => {
  test('a message its consumer keeps failing is retried, then dead-lettered after maxReceiveCount attempts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nexchat-queue-'));
    const attempts: string[] = [];
    const queue = new LocalQueue({
      name: 'test-otp',
      maxReceiveCount: 3,
      retryDelayMs: 1,
      deadLetterFile: join(dir, 'dead.jsonl'),
      handler: async (event: SQSEvent): Promise<SQSBatchResponse> => {
        const r = event.Records[0]!;
        attempts.push(`${r.body}#${r.attributes.ApproximateReceiveCount}`);
        return { batchItemFailures: r.body === 'bad' ? [{ itemIdentifier: r.messageId }] : [] };
      },
    });
    const badId = queue.send('bad');
    queue.send('good');
    await queue.drained();
    assert.deepEqual(
      attempts.filter((a) => a.startsWith('good')),
      ['good#1'],
      'a delivered message is not retried',
    );
    assert.deepEqual(
      attempts.filter((a) => a.startsWith('bad')),
      ['bad#1', 'bad#2', 'bad#3'],
    );
    assert.deepEqual(queue.deadLetters, [{ messageId: badId, receiveCount: 3 }]);
    const line = JSON.parse(readFileSync(join(dir, 'dead.jsonl'), 'utf8'));
    assert.equal(line.messageId, badId);
    assert.equal(line.body, undefined, 'the dead-letter file never holds the message (it carries a code)');
    queue.stop();
  });

  test('a consumer that throws fails its message like a crashed Lambda; a later success ends the retries', async () => {
    let calls = 0;
    const queue = new LocalQueue({
      name: 'test-crash',
      retryDelayMs: 1,
      handler: async () => {
        calls++;
        if (calls === 1) throw new Error('crash');
        return { batchItemFailures: [] };
      },
    });
    queue.send('x');
    await queue.drained();
    assert.equal(calls, 2);
    assert.deepEqual(queue.deadLetters, []);
    queue.stop();
  });
});
