// Dependency faults without a JVM: the one error mapping (mapError) over the errors the AWS SDK
// throws, and sendMessage over fakes whose pushes fail. The same rules end to end: tests/faults.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { LimitExceededException } from '@aws-sdk/client-apigatewaymanagementapi';
import { sendMessage } from '#core/conversations.ts';
import { NotFound, RateLimited, ServiceUnavailable } from '#core/errors.ts';
import { mapError } from '#middleware/common.ts';
import { logger } from '#middleware/logger.ts';
import { addUser, fakeWorld, sendDeps } from '../support/fakes.ts';

logger.setLogLevel('SILENT');

interface Expected {
  status: number;
  code: string;
  retryAfter: string | undefined;
  retryAfterSeconds: number | undefined;
}

const $metadata = { httpStatusCode: 400 };
const named = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(name), { name, ...extra });
const mapped = (error: unknown): Expected => {
  const m = mapError(error, {});
  return {
    status: m.status,
    code: m.code,
    retryAfter: m.headers['Retry-After'],
    retryAfterSeconds: (m.details as { retryAfterSeconds?: number })?.retryAfterSeconds,
  };
};
const throttled: Expected = { status: 503, code: 'throttled', retryAfter: '1', retryAfterSeconds: 1 };
const unavailable: Expected = { status: 503, code: 'unavailable', retryAfter: '1', retryAfterSeconds: 1 };
const internal: Expected = { status: 500, code: 'internal', retryAfter: undefined, retryAfterSeconds: undefined };

describe('mapError: dependency faults are 503 with Retry-After, in one place', () => {
  const cases: [string, unknown, Expected][] = [
    ['ProvisionedThroughputExceededException', named('ProvisionedThroughputExceededException', { $metadata }), throttled],
    ['ThrottlingException', named('ThrottlingException', { $metadata }), throttled],
    ['RequestLimitExceeded', named('RequestLimitExceeded', { $metadata }), throttled],
    ['TimeoutError (socket or request timeout)', named('TimeoutError'), throttled],
    ['AbortError', named('AbortError'), throttled],
    ['ETIMEDOUT', Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }), throttled],
    ['@connections 429 (LimitExceededException)', new LimitExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }), throttled],
    [
      'a transaction cancelled for ProvisionedThroughputExceeded',
      new TransactionCanceledException({ message: 'cancelled', $metadata, CancellationReasons: [{ Code: 'None' }, { Code: 'ProvisionedThroughputExceeded' }] }),
      throttled,
    ],
    ['a server fault (HTTP 500)', named('InternalServerError', { $fault: 'server', $metadata: { httpStatusCode: 500 } }), unavailable],
    ['a 503 without a name we know', named('Unknown', { $metadata: { httpStatusCode: 503 } }), unavailable],
    [
      'a condition that did not hold (our bug if it escapes)',
      new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata }),
      internal,
    ],
    [
      'a transaction cancelled by a condition',
      new TransactionCanceledException({ message: 'cancelled', $metadata, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }] }),
      internal,
    ],
    ['a TypeError', new TypeError('x is undefined'), internal],
    ['a thrown string', 'boom', internal],
  ];
  for (const [what, error, expected] of cases) {
    test(what, () => assert.deepEqual(mapped(error), expected));
  }

  test('domain errors keep their status; every 429 and 503 says when to retry, others do not', () => {
    assert.deepEqual(mapped(new RateLimited('sends', 7)), { status: 429, code: 'rate_limited', retryAfter: '7', retryAfterSeconds: 7 });
    assert.deepEqual(mapped(new ServiceUnavailable('Too much contention', 'busy')), { status: 503, code: 'busy', retryAfter: '1', retryAfterSeconds: 1 });
    assert.deepEqual(mapped(new NotFound()), { status: 404, code: 'not_found', retryAfter: undefined, retryAfterSeconds: undefined });
  });
});

describe('sendMessage when pushing fails', () => {
  test('the stored message is acked, each failed push recorded (no ciphertext), and a retry stores nothing new', async () => {
    const w = fakeWorld();
    const [ada, bob] = await Promise.all([addUser(w), addUser(w)]);
    const deps = sendDeps(w);
    const refuse = () => Promise.reject(new LimitExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }));
    deps.connections = { pushTo: refuse };
    const input = {
      clientMessageId: 'cmid-0001',
      ciphertext: Buffer.alloc(48, 7).toString('base64'),
      nonce: Buffer.alloc(24, 1).toString('base64'),
      senderKeyVersion: 1,
      recipientKeyVersion: 1,
    };
    const first = await sendMessage(deps, ada.userId, bob.userId, input);
    assert.equal(first.duplicate, false);
    await first.delivery; // never rejects: the ack went out alongside it
    assert.equal(first.ack.clientMessageId, 'cmid-0001');
    const events = w.events.named('message_push_failed');
    assert.deepEqual(
      events.map((e) => [e.data.side, e.data.messageId, e.data.errorName]),
      [
        ['recipient', first.ack.messageId, 'LimitExceededException'],
        ['sender', first.ack.messageId, 'LimitExceededException'],
      ],
    );
    assert.ok(!JSON.stringify(events).includes(input.ciphertext));
    const again = await sendMessage(deps, ada.userId, bob.userId, input);
    assert.deepEqual([again.duplicate, again.ack], [true, first.ack]);
    assert.equal(w.events.named('message_push_failed').length, 2, 'a duplicate pushes nothing, so fails nothing');
  });
});
