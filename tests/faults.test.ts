// Fault injection at the SDK boundary: the real handlers, the local gateway and DynamoDB Local, with
// a middleware on the very SDK clients the handlers use (DynamoDB, @connections) that throws the
// service's own exception for chosen commands. It sits in the `initialize` step, before the SDK's
// retry middleware, so each injected error is what a handler sees once the SDK has given up.
// What must hold: HTTP answers 503 + Retry-After (error shape, security headers), never a bare 500;
// a socket gets a `throttled` error frame with `retryAfterSeconds`; auth limiters fail closed; a
// stored message is acked whatever pushing it does, and a retried send is never duplicated.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { InternalServerError, ProvisionedThroughputExceededException, RequestLimitExceeded, ThrottlingException } from '@aws-sdk/client-dynamodb';
import { ApiGatewayManagementApiServiceException, GoneException, LimitExceededException } from '@aws-sdk/client-apigatewaymanagementapi';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import nacl from 'tweetnacl';
import type { Runtime } from '../local/runtime.ts';
import { captureOutput } from './support/capture.ts';
import { bearer, connectAs, logIn, outbox, requestCode, signUp, uniqueEmail, type Account } from './support/identity.ts';
import { eventually, request, startTestRuntime, type TestSocket } from './support/runtime.ts';

// ---- the injector ---------------------------------------------------------------------------------

interface Fault {
  client: 'dynamodb' | 'connections';
  /** The SDK command name, e.g. `TransactWriteItemsCommand`. */
  command: string;
  match?: (input: Record<string, unknown>) => boolean;
  error: () => Error;
  /** How many matching calls fail (default: all while the test runs). */
  times?: number;
  /** The call reaches the service first (a response lost after the write). */
  afterSend?: boolean;
  /** With afterSend: what reaches the service (a crash part-way through a batch: only some of its items). */
  partial?: (input: Record<string, unknown>) => Record<string, unknown>;
}

const faults: (Fault & { hits: number })[] = [];

function inject(fault: Fault): { readonly hits: number } {
  const entry = { ...fault, hits: 0 };
  faults.push(entry);
  return entry;
}

type Next = (args: { input: Record<string, unknown> }) => Promise<unknown>;
type Stack = { add(mw: unknown, options: { step: 'initialize'; name: string; priority: 'high' }): void };

function installInjector(stack: Stack, client: Fault['client']): void {
  const middleware = (next: Next, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
    const f = faults.find((x) => x.client === client && x.command === context.commandName && x.hits < (x.times ?? Infinity) && (x.match?.(args.input) ?? true));
    if (!f) return next(args);
    f.hits++;
    if (f.afterSend) await next(f.partial ? { ...args, input: f.partial(args.input) } : args);
    throw f.error();
  };
  stack.add(middleware, { step: 'initialize', name: 'faultInjection', priority: 'high' });
}

const $metadata = (httpStatusCode: number) => ({ httpStatusCode, requestId: 'injected', attempts: 3, totalRetryDelay: 0 });

/** The exceptions as the SDK's deserializers build them. */
const dynamo = {
  ProvisionedThroughputExceededException: () =>
    new ProvisionedThroughputExceededException({
      message: 'The level of configured provisioned throughput for the table was exceeded',
      $metadata: $metadata(400),
    }),
  ThrottlingException: () => new ThrottlingException({ message: 'Rate of requests exceeds the allowed throughput', $metadata: $metadata(400) }),
  RequestLimitExceeded: () =>
    new RequestLimitExceeded({ message: 'Throughput exceeds the current throughput limit for your account', $metadata: $metadata(400) }),
  // what @smithy/node-http-handler throws on a socket or request timeout, and on an aborted request
  TimeoutError: () => Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }),
  AbortError: () => Object.assign(new Error('Request aborted'), { name: 'AbortError' }),
};
const dynamoInternal = () => new InternalServerError({ message: 'Internal server error', $metadata: $metadata(500) });
const connections = {
  429: () => new LimitExceededException({ message: 'Rate exceeded', $metadata: $metadata(429) }),
  500: () =>
    new ApiGatewayManagementApiServiceException({
      name: 'InternalServerErrorException',
      $fault: 'server',
      message: 'Internal server error',
      $metadata: $metadata(500),
    }),
  410: () => new GoneException({ message: '', $metadata: $metadata(410) }),
};

// ---- the world ------------------------------------------------------------------------------------

let rt: Runtime;
let alice: Account;
let bob: Account;
const sockets: TestSocket[] = [];

before(async () => {
  rt = await startTestRuntime();
  const platform = await import('../functions/wiring/platform.ts');
  const { managementClient } = await import('../functions/adapters/connections.ts');
  installInjector(platform.db().client.middlewareStack as unknown as Stack, 'dynamodb');
  installInjector(managementClient(platform.config().wsCallbackUrl!, platform.config().region).middlewareStack as unknown as Stack, 'connections');
  [alice, bob] = await Promise.all([signUp(rt, { displayName: 'Alice' }), signUp(rt, { displayName: 'Bob' })]);
});
afterEach(() => {
  faults.length = 0;
});
after(async () => {
  await Promise.all(sockets.map((s) => s.close().catch(() => undefined)));
  await rt?.stop();
});

async function device(p: Account): Promise<TestSocket> {
  const s = await connectAs(rt, p.accessToken);
  sockets.push(s);
  return s;
}

async function connectionIdsOf(userId: string): Promise<string[]> {
  const out = await rt.db.doc.send(
    new QueryCommand({
      TableName: rt.db.table('connections'),
      IndexName: 'byUser',
      KeyConditionExpression: 'userId = :u',
      ExpressionAttributeValues: { ':u': userId },
    }),
  );
  return (out.Items ?? []).map((i) => i.connectionId as string);
}

const message = (clientMessageId: string = randomUUID()) => ({
  clientMessageId,
  ciphertext: randomBytes(48).toString('base64'),
  nonce: randomBytes(24).toString('base64'),
  senderKeyVersion: 1,
  recipientKeyVersion: 1,
});
const sendFrame = (to: Account, clientMessageId?: string) => ({ action: 'sendMessage', to: to.userId, ...message(clientMessageId) });
const isType = (type: string) => (f: { type: string }) => f.type === type;
const synced = async (p: Account, clientMessageId: string) =>
  (
    (await request(rt.httpUrl, 'GET', '/api/messages/sync?limit=100', { headers: bearer(p.accessToken) })).json.messages as {
      clientMessageId: string;
      messageId: string;
    }[]
  ).filter((m) => m.clientMessageId === clientMessageId);
const me = (p: Account) => request(rt.httpUrl, 'GET', '/api/users/me', { headers: bearer(p.accessToken) });

function assertRetryLater(res: Awaited<ReturnType<typeof request>>, code: string, what: string): void {
  assert.equal(res.status, 503, `${what}: ${res.status} ${res.text}`);
  assert.equal(res.headers.get('retry-after'), '1', what);
  assert.deepEqual(res.json, { error: { code, message: res.json.error.message, details: { retryAfterSeconds: 1 } } }, what);
  assert.match(res.json.error.message, /again shortly/, what);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, what);
  assert.match(res.headers.get('strict-transport-security') ?? '', /max-age=31536000/, what);
  assert.equal(res.headers.get('cache-control'), 'no-store', what);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
  assert.doesNotMatch(res.text, /Exception|Throughput|timed out|stack/i, `${what}: nothing internal leaks`);
}

// ---- HTTP -----------------------------------------------------------------------------------------

describe('HTTP: a throttled, slow or failing DynamoDB is a 503 with Retry-After', () => {
  for (const [name, error] of Object.entries(dynamo)) {
    test(`${name} on a read: 503 throttled, the error shape and the security headers`, async () => {
      const fault = inject({ client: 'dynamodb', command: 'GetItemCommand', error });
      assertRetryLater(await me(alice), 'throttled', name);
      assert.ok(fault.hits >= 1, 'the fault was hit');
    });
  }

  test('an internal error of DynamoDB (HTTP 500) is a 503 unavailable with Retry-After', async () => {
    inject({ client: 'dynamodb', command: 'GetItemCommand', error: dynamoInternal });
    assertRetryLater(await me(alice), 'unavailable', 'InternalServerError');
  });

  test('the fault clears, the same request succeeds; a bug of ours (not a dependency fault) stays a 500', async () => {
    assert.equal((await me(alice)).status, 200);
    inject({ client: 'dynamodb', command: 'GetItemCommand', error: () => new TypeError("Cannot read properties of undefined (reading 'x')"), times: 1 });
    const res = await me(alice);
    assert.equal(res.status, 500);
    assert.equal(res.json.error.code, 'internal');
    assert.equal(res.headers.get('retry-after'), null);
  });
});

describe('auth rate limiters fail closed', () => {
  const counterWrite = (input: Record<string, unknown>) => JSON.stringify(input.Key ?? {}).includes('RL#');

  test('login with the right password: a failing counter write refuses it (503), no tokens', async () => {
    const account = await signUp(rt);
    inject({ client: 'dynamodb', command: 'UpdateItemCommand', match: counterWrite, error: dynamo.ProvisionedThroughputExceededException });
    const res = await logIn(rt, account.email, account.password);
    assertRetryLater(res, 'throttled', 'login');
    assert.ok(!res.text.includes('accessToken'));
    faults.length = 0;
    assert.equal((await logIn(rt, account.email, account.password)).status, 200, 'the counter works again: so does login');
  });

  test('OTP request: a timed-out counter write sends no code', async () => {
    const email = uniqueEmail('otp');
    inject({ client: 'dynamodb', command: 'UpdateItemCommand', match: counterWrite, error: dynamo.TimeoutError });
    assertRetryLater(await requestCode(rt, email, 'register'), 'throttled', 'otp request');
    assert.deepEqual(
      (await outbox(rt)).filter((l) => l.destination === email),
      [],
      'no code went out',
    );
  });

  test('refresh: a throttled counter write rotates nothing; the refresh token still works afterwards', async () => {
    const account = await signUp(rt);
    inject({ client: 'dynamodb', command: 'UpdateItemCommand', match: counterWrite, error: dynamo.ThrottlingException });
    const refused = await request(rt.httpUrl, 'POST', '/api/auth/refresh', { body: { refreshToken: account.refreshToken } });
    assertRetryLater(refused, 'throttled', 'refresh');
    faults.length = 0;
    const ok = await request(rt.httpUrl, 'POST', '/api/auth/refresh', { body: { refreshToken: account.refreshToken } });
    assert.equal(ok.status, 200, 'not counted as a use, so not treated as reuse');
  });
});

// ---- WebSocket ------------------------------------------------------------------------------------

describe('WebSocket: a throttled or slow DynamoDB is a `throttled` error frame with retryAfterSeconds', () => {
  test('the per-frame session check throttled: an error frame, and the socket stays open', async () => {
    const a = await device(alice);
    // a send reads the session with everything else it needs, in one BatchGetItem
    inject({ client: 'dynamodb', command: 'BatchGetItemCommand', error: dynamo.RequestLimitExceeded });
    const sent = sendFrame(bob);
    a.send(sent);
    const frame = await a.next(isType('error'));
    assert.deepEqual(frame, {
      type: 'error',
      action: 'sendMessage',
      clientMessageId: sent.clientMessageId,
      code: 'throttled',
      message: frame.message,
      details: { retryAfterSeconds: 1 },
      retryAfterSeconds: 1,
    });
    faults.length = 0;
    const retry = sendFrame(bob);
    a.send(retry);
    assert.equal((await a.next(isType('ack'))).clientMessageId, retry.clientMessageId, 'a failing database is not an ended session');
  });

  /**
   * MessagesSent published since `start` (waiting for `expected`), not counting a fresh send from `a`
   * used as a barrier: its ack comes after the earlier invocations on the socket have ended (and published).
   */
  async function messagesSentSince(a: TestSocket, start: number, expected: number): Promise<number> {
    const barrier = sendFrame(bob);
    a.send(barrier);
    assert.equal((await a.next(isType('ack'))).clientMessageId, barrier.clientMessageId);
    await eventually(
      async () => rt.metrics.sum('MessagesSent') - start,
      (n) => n >= expected + 1,
    );
    await new Promise((r) => setTimeout(r, 100)); // and a miscount after it would have landed too
    return rt.metrics.sum('MessagesSent') - start - 1;
  }

  const cmidPut = (input: Record<string, unknown>) => String((input.Item as { sk?: string } | undefined)?.sk ?? '').startsWith('CMID#');
  /** A send's BatchWriteItem with its member items (the inbox entries) left out: a crash part-way through it. */
  const withoutMemberItems = (input: Record<string, unknown>) => {
    const tables = input.RequestItems as Record<string, { PutRequest: { Item: { sk: string } } }[]>;
    return {
      ...input,
      RequestItems: Object.fromEntries(Object.entries(tables).map(([t, writes]) => [t, writes.filter((w) => !w.PutRequest.Item.sk.startsWith('MEMBER#'))])),
    };
  };

  test("a throttled idempotency write: one attempt, a throttled frame, and the client's retry is stored once", async () => {
    const a = await device(alice);
    const start = rt.metrics.sum('MessagesSent');
    const fault = inject({ client: 'dynamodb', command: 'PutItemCommand', match: cmidPut, error: dynamo.ProvisionedThroughputExceededException, times: 1 });
    const frame = sendFrame(bob);
    a.send(frame);
    const error = await a.next(isType('error'));
    assert.equal(error.code, 'throttled');
    assert.equal(error.retryAfterSeconds, 1);
    assert.equal(fault.hits, 1, 'one attempt');
    assert.deepEqual(await synced(bob, frame.clientMessageId), [], 'nothing stored');
    a.send(frame);
    const ack = await a.next(isType('ack'));
    assert.equal(ack.clientMessageId, frame.clientMessageId);
    assert.deepEqual(
      (await synced(bob, frame.clientMessageId)).map((m) => m.messageId),
      [ack.messageId],
      'stored exactly once',
    );
    assert.equal(await messagesSentSince(a, start, 1), 1, 'MessagesSent: the retry stored it, the throttled attempt counted nothing');
  });

  test('a crash between the writes (the idempotency record stored, the message and queue entry not): the retry completes them once', async () => {
    const a = await device(alice);
    const start = rt.metrics.sum('MessagesSent');
    const fault = inject({ client: 'dynamodb', command: 'BatchWriteItemCommand', error: dynamo.ProvisionedThroughputExceededException, times: 1 });
    const frame = sendFrame(bob);
    a.send(frame);
    assert.equal((await a.next(isType('error'))).code, 'throttled');
    assert.equal(fault.hits, 1);
    assert.deepEqual(await synced(bob, frame.clientMessageId), [], 'the message is not readable yet');
    a.send(frame);
    const ack = await a.next(isType('ack'));
    assert.deepEqual(
      (await synced(bob, frame.clientMessageId)).map((m) => m.messageId),
      [ack.messageId],
      'the retry finished the job',
    );
    const conversations = await request(rt.httpUrl, 'GET', '/api/conversations', { headers: bearer(bob.accessToken) });
    const entry = conversations.json.conversations.find((c: { conversationId: string }) => c.conversationId === ack.conversationId);
    assert.equal(entry?.lastMessage?.messageId, ack.messageId, "the recipient's inbox too");
    a.send(frame);
    assert.equal((await a.next(isType('ack'))).messageId, ack.messageId);
    assert.equal((await synced(bob, frame.clientMessageId)).length, 1, 'a third copy changes nothing');
    // Counted by the copy that wins the idempotency record once the message is stored: the crashed
    // attempt never got there, and a repairing copy cannot tell a crashed first attempt from one still
    // writing (which will count), so it counts nothing. Never twice; here, not at all.
    assert.equal(await messagesSentSince(a, start, 0), 0, 'MessagesSent: neither the crashed attempt nor the repairs');
  });

  test('a crash on an inbox entry: the retry completes it, and a message the recipient already synced is not queued again', async () => {
    const a = await device(alice);
    const fault = inject({
      client: 'dynamodb',
      command: 'BatchWriteItemCommand',
      afterSend: true,
      partial: withoutMemberItems,
      error: dynamo.ThrottlingException,
      times: 1,
    });
    const frame = sendFrame(bob);
    a.send(frame);
    assert.equal((await a.next(isType('error'))).code, 'throttled');
    assert.equal(fault.hits, 1);
    const first = await request(rt.httpUrl, 'GET', '/api/messages/sync?limit=100', { headers: bearer(bob.accessToken) });
    const stored = first.json.messages.filter((m: { clientMessageId: string }) => m.clientMessageId === frame.clientMessageId);
    assert.equal(stored.length, 1, 'the queue entry was written before the crash');
    a.send(frame);
    const ack = await a.next(isType('ack'));
    assert.equal(ack.messageId, stored[0].messageId);
    const next = await request(rt.httpUrl, 'GET', `/api/messages/sync?after=${first.json.cursor}&limit=100`, { headers: bearer(bob.accessToken) });
    assert.deepEqual(next.json.messages, [], 'the repair re-delivers nothing');
  });

  test('HTTP send: the same throttled idempotency write is a 503 with Retry-After', async () => {
    const conv = await request(rt.httpUrl, 'POST', '/api/conversations', { headers: bearer(alice.accessToken), body: { userId: bob.userId } });
    inject({ client: 'dynamodb', command: 'PutItemCommand', match: cmidPut, error: dynamo.ThrottlingException, times: 1 });
    const body = message();
    const path = `/api/conversations/${conv.json.conversationId}/messages`;
    assertRetryLater(await request(rt.httpUrl, 'POST', path, { headers: bearer(alice.accessToken), body }), 'throttled', 'post message');
    const retried = await request(rt.httpUrl, 'POST', path, { headers: bearer(alice.accessToken), body });
    assert.equal(retried.status, 201);
    assert.deepEqual(
      (await synced(bob, body.clientMessageId)).map((m) => m.messageId),
      [retried.json.messageId],
    );
  });

  test('a send whose response timed out after the write: the retry is acked with the stored message, never a second copy', async () => {
    const a = await device(alice);
    const start = rt.metrics.sum('MessagesSent');
    const fault = inject({ client: 'dynamodb', command: 'BatchWriteItemCommand', error: dynamo.TimeoutError, afterSend: true, times: 1 });
    const frame = sendFrame(bob);
    a.send(frame);
    const error = await a.next(isType('error'));
    assert.deepEqual([error.code, error.retryAfterSeconds, fault.hits], ['throttled', 1, 1]);
    const stored = await synced(bob, frame.clientMessageId);
    assert.equal(stored.length, 1, 'the write went through');
    a.send(frame);
    const ack = await a.next(isType('ack'));
    assert.equal(ack.messageId, stored[0]!.messageId, 'the retry gets the stored message');
    assert.equal((await synced(bob, frame.clientMessageId)).length, 1, 'no second copy');
    assert.equal(await messagesSentSince(a, start, 0), 0, 'MessagesSent: the attempt failed before counting, the retry is a duplicate');
  });

  test('the push goes out beside the last writes: if they fail, the recipient may hold it already, and the retry stores it under the same id, pushed once', async () => {
    const a = await device(alice);
    const b = await device(bob);
    const fault = inject({ client: 'dynamodb', command: 'BatchWriteItemCommand', error: dynamo.ThrottlingException, times: 1 });
    const frame = sendFrame(bob);
    a.send(frame);
    assert.equal((await a.next(isType('error'))).code, 'throttled', 'no ack: the message is not stored yet');
    assert.equal(fault.hits, 1);
    const early = await b.next(isType('message'));
    assert.equal(early.clientMessageId, frame.clientMessageId, 'pushed once the idempotency record held it');
    assert.equal((await synced(bob, frame.clientMessageId)).length, 0, 'not in the queue until the retry');
    a.send(frame);
    const ack = await a.next(isType('ack'));
    assert.equal(ack.messageId, early.messageId, 'the retry stores it under the id already pushed');
    assert.deepEqual(
      (await synced(bob, frame.clientMessageId)).map((m) => m.messageId),
      [early.messageId],
    );
    await assert.rejects(b.next(isType('message'), 300), /no matching frame/, 'the retry pushes nothing again');
  });
});

// ---- @connections ---------------------------------------------------------------------------------

describe('@connections faults: a stored message is acked, and the recipient gets it by sync', () => {
  for (const status of [500, 429] as const) {
    test(`pushing to the recipient fails with ${status}: the sender is acked, the failure recorded, the message synced`, async () => {
      const a = await device(alice);
      const b = await device(bob);
      const bobIds = await connectionIdsOf(bob.userId);
      const fault = inject({
        client: 'connections',
        command: 'PostToConnectionCommand',
        match: (i) => bobIds.includes(i.ConnectionId as string),
        error: connections[status],
      });
      const frame = sendFrame(bob);
      let ack: { clientMessageId: string; messageId: string } | undefined;
      const logs = await captureOutput(async () => {
        a.send(frame);
        ack = await a.next(isType('ack'));
      }, 'INFO');
      assert.equal(ack!.clientMessageId, frame.clientMessageId);
      assert.ok(fault.hits >= 1, 'the push to Bob failed');
      const event = logs
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((l) => l.event === 'message_push_failed');
      assert.ok(event, 'the failed push is recorded');
      assert.deepEqual([event.side, event.messageId, event.errorName], ['recipient', ack!.messageId, connections[status]().name]);
      assert.ok(!logs.includes(frame.ciphertext), 'no ciphertext in logs');
      assert.deepEqual(
        (await synced(bob, frame.clientMessageId)).map((m) => m.messageId),
        [ack!.messageId],
        'Bob gets it by sync',
      );
      faults.length = 0;
      const next = sendFrame(bob);
      a.send(next);
      await a.next(isType('ack'));
      assert.equal((await b.next((f) => f.type === 'message' && f.clientMessageId === next.clientMessageId)).senderId, alice.userId, 'pushes resume');
    });
  }

  test("410 for the recipient's connection: the sender is acked, its row is deleted, the message synced", async () => {
    const a = await device(alice);
    await device(bob);
    const [gone] = (await connectionIdsOf(bob.userId)).slice(-1);
    inject({ client: 'connections', command: 'PostToConnectionCommand', match: (i) => i.ConnectionId === gone, error: connections[410] });
    const frame = sendFrame(bob);
    a.send(frame);
    const ack = await a.next(isType('ack'));
    // The ack goes out alongside the pushes (it never waits on @connections), so the cleanup of the
    // gone connection may finish just after it; the invocation awaits it before it ends.
    const left = await eventually(
      () => connectionIdsOf(bob.userId),
      (ids) => !ids.includes(gone!),
    );
    assert.ok(!left.includes(gone!), 'the gone connection is forgotten');
    assert.deepEqual(
      (await synced(bob, frame.clientMessageId)).map((m) => m.messageId),
      [ack.messageId],
    );
  });

  test('HTTP send while every push fails with 500: 201 with the ack, and Bob syncs it', async () => {
    await device(bob);
    const conv = await request(rt.httpUrl, 'POST', '/api/conversations', { headers: bearer(alice.accessToken), body: { userId: bob.userId } });
    const fault = inject({ client: 'connections', command: 'PostToConnectionCommand', error: connections[500] });
    const body = message();
    const res = await request(rt.httpUrl, 'POST', `/api/conversations/${conv.json.conversationId}/messages`, { headers: bearer(alice.accessToken), body });
    assert.equal(res.status, 201, res.text);
    assert.ok(fault.hits >= 1);
    assert.deepEqual(
      (await synced(bob, body.clientMessageId)).map((m) => m.messageId),
      [res.json.messageId],
    );
  });
});

describe('a crashed group send', () => {
  const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
  const call = (who: Account, method: string, path: string, body?: unknown) =>
    request(rt.httpUrl, method, path, { headers: bearer(who.accessToken), ...(body === undefined ? {} : { body }) });
  async function publishKey(p: Account) {
    const identity = nacl.sign.keyPair();
    const box = nacl.box.keyPair();
    const r = await call(p, 'PUT', '/api/users/public-key', {
      identityKey: b64(identity.publicKey),
      publicKey: b64(box.publicKey),
      signature: b64(nacl.sign.detached(box.publicKey, identity.secretKey)),
    });
    assert.ok([200, 201].includes(r.status), r.text);
  }
  const groupMessage = (members: Account[]) => ({
    clientMessageId: randomUUID(),
    ciphertext: randomBytes(48).toString('base64'),
    nonce: randomBytes(24).toString('base64'),
    senderKeyVersion: 1,
    keys: Object.fromEntries(
      members.map((m) => [m.userId, { wrappedKey: randomBytes(48).toString('base64'), nonce: randomBytes(24).toString('base64'), keyVersion: 1 }]),
    ),
  });
  const syncFrom = async (p: Account, cursor?: string) =>
    (await call(p, 'GET', `/api/messages/sync?limit=100${cursor ? `&after=${encodeURIComponent(cursor)}` : ''}`)).json as {
      messages: { clientMessageId: string; messageId: string }[];
      cursor: string;
    };

  test('a retry past the settle horizon queues the missing entries under a fresh id, once: a device whose cursor moved on still gets it', async () => {
    const [a, b, c] = await Promise.all([signUp(rt, { displayName: 'Gail' }), signUp(rt, { displayName: 'Hank' }), signUp(rt, { displayName: 'Iris' })]);
    await Promise.all([a, b, c].map(publishKey));
    const created = await call(a, 'POST', '/api/groups', { name: 'Late', memberIds: [b.userId, c.userId] });
    const g = created.json.conversationId as string;
    for (const p of [b, c]) assert.equal((await call(p, 'POST', `/api/groups/${g}/invitations/accept`)).status, 200);
    const members = [a, b, c];
    const path = `/api/groups/${g}/messages`;

    // the first attempt stores its idempotency record, then crashes on the copies (nothing of them written)
    const body = groupMessage(members);
    const fault = inject({ client: 'dynamodb', command: 'BatchWriteItemCommand', error: dynamo.ProvisionedThroughputExceededException, times: 1 });
    assertRetryLater(await call(a, 'POST', path, body), 'throttled', 'group send');
    assert.equal(fault.hits, 1);
    // B's device syncs on, past the settle horizon: its cursor now lies beyond the message's own id
    const before = await syncFrom(b);
    rt.clock.advance(31_000);
    const moved = await syncFrom(b, before.cursor);
    assert.ok(!moved.messages.some((m) => m.clientMessageId === body.clientMessageId));
    // the late retry: acked with the first message, queued for B and C under a fresh id
    const retried = await call(a, 'POST', path, body);
    assert.equal(retried.status, 200, retried.text); // a repeat of a stored send
    const got = (await syncFrom(b, moved.cursor)).messages.filter((m) => m.clientMessageId === body.clientMessageId);
    assert.deepEqual(
      got.map((m) => m.messageId),
      [retried.json.messageId],
      'B gets it once, with its original message id',
    );
    assert.equal((await syncFrom(c)).messages.filter((m) => m.clientMessageId === body.clientMessageId).length, 1);
    // claimed once: another late retry queues nothing more
    assert.equal((await call(a, 'POST', path, body)).json.messageId, retried.json.messageId);
    assert.equal((await syncFrom(c)).messages.filter((m) => m.clientMessageId === body.clientMessageId).length, 1);
    const history = await call(b, 'GET', `/api/conversations/${g}/messages`);
    assert.equal(history.json.messages.filter((m: { clientMessageId: string }) => m.clientMessageId === body.clientMessageId).length, 1);

    // within the horizon a retry re-puts the entries under their own id (no second entry for anyone)
    const young = groupMessage(members);
    inject({ client: 'dynamodb', command: 'BatchWriteItemCommand', error: dynamo.ProvisionedThroughputExceededException, times: 1 });
    assertRetryLater(await call(a, 'POST', path, young), 'throttled', 'group send');
    const ok = await call(a, 'POST', path, young);
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(
      (await syncFrom(c)).messages.filter((m) => m.clientMessageId === young.clientMessageId).map((m) => m.messageId),
      [ok.json.messageId],
    );
  });
});
