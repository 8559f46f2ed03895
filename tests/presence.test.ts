// Presence on reconnect storms, end to end: real WebSocket clients through the local gateway, the
// real handlers, DynamoDB Local and the presence queue (its delivery delay is the offline grace, 1 s
// here). Partners hear "online" once per time online and "offline" once, one grace after the last
// socket closed; a drop and reconnect within the grace tells them nothing at all.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import nacl from 'tweetnacl';
import { lambdaContext, loadHandler } from '../local/lambda.ts';
import type { Runtime } from '../local/runtime.ts';
import { workers } from '../lib/routes.ts';
import { eventually, request, startTestRuntime, type TestSocket } from './support/runtime.ts';
import { bearer, connectAs, signUp, type Account } from './support/identity.ts';

const GRACE_SECONDS = 1;
/** Long enough for anything the grace could still bring. */
const QUIET_MS = GRACE_SECONDS * 1000 + 800;

let rt: Runtime;
const sockets: TestSocket[] = [];

before(async () => {
  rt = await startTestRuntime({ PRESENCE_OFFLINE_GRACE_SECONDS: String(GRACE_SECONDS) });
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

/** Two people who have talked (presence flows only between engaged partners), the watcher online. */
async function partners(): Promise<{ user: Account; watcher: Account; watching: TestSocket }> {
  const [user, watcher] = [await signUp(rt, { displayName: 'Pia' }), await signUp(rt, { displayName: 'Wat' })];
  const conv = await request(rt.httpUrl, 'POST', '/api/conversations', { headers: bearer(user.accessToken), body: { userId: watcher.userId } });
  assert.equal(conv.status, 201);
  const sent = await request(rt.httpUrl, 'POST', `/api/conversations/${conv.json.conversationId}/messages`, {
    headers: bearer(user.accessToken),
    body: {
      clientMessageId: randomUUID(),
      ciphertext: Buffer.from(nacl.randomBytes(48)).toString('base64'),
      nonce: Buffer.from(nacl.randomBytes(24)).toString('base64'),
      senderKeyVersion: 1,
      recipientKeyVersion: 1,
    },
  });
  assert.equal(sent.status, 201, sent.text);
  return { user, watcher, watching: await device(watcher) };
}

/** Every presence frame about `userId` that reaches the socket within `windowMs`, in order. */
async function heard(s: TestSocket, userId: string, windowMs: number): Promise<{ status: string; lastSeen?: string }[]> {
  const frames = [];
  const deadline = Date.now() + windowMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return frames;
    try {
      frames.push(await s.next((f) => f.type === 'presence' && f.userId === userId, left));
    } catch {
      return frames;
    }
  }
}

const socketSet = async (userId: string) =>
  (await rt.db.doc.send(new GetCommand({ TableName: process.env.CONNECTIONS_TABLE, Key: { pk: `USER#${userId}`, sk: 'SOCKETS' }, ConsistentRead: true }))).Item;

describe('presence through the offline grace', () => {
  test('a normal session: the partner hears online once, then offline once, one grace after the close', async () => {
    const { user, watching } = await partners();
    const s = await device(user);
    assert.deepEqual(
      (await heard(watching, user.userId, 400)).map((f) => f.status),
      ['online'],
    );
    const closedAt = Date.now();
    await s.close();
    const offline = await watching.next((f) => f.type === 'presence' && f.userId === user.userId, 5000);
    assert.equal(offline.status, 'offline');
    assert.ok(Date.now() - closedAt >= GRACE_SECONDS * 1000, 'not before the grace has passed');
    assert.ok(Math.abs(Date.parse(offline.lastSeen) - closedAt) < 1000, 'lastSeen is when the socket closed, not when the grace ended');
    assert.deepEqual(await heard(watching, user.userId, QUIET_MS), [], 'and nothing more');
    const set = await socketSet(user.userId);
    assert.deepEqual([set?.ids, set?.online], [undefined, false]);
  });

  test('a socket that drops and reconnects within the grace sends the partner no presence frame at all', async () => {
    const { user, watching } = await partners();
    const first = await device(user);
    assert.deepEqual(
      (await heard(watching, user.userId, 400)).map((f) => f.status),
      ['online'],
    );
    const epochBefore = (await socketSet(user.userId))?.epoch as number;
    await first.close();
    const second = await device(user); // back at once, as a client does after a network blip
    assert.deepEqual(await heard(watching, user.userId, QUIET_MS), [], 'no offline, no online');
    await rt.queues.presence.drained();
    const set = await socketSet(user.userId);
    assert.equal(set?.online, true);
    assert.equal(set?.epoch, epochBefore + 1, 'one join since');
    assert.equal((set?.ids as Set<string>).size, 1);
    // the session that finally ends is announced, once
    await second.close();
    assert.deepEqual(
      (await heard(watching, user.userId, QUIET_MS)).map((f) => f.status),
      ['offline'],
    );
  });

  test('sockets opening together announce online exactly once', async () => {
    const { user, watching } = await partners();
    const opened = await Promise.all([device(user), device(user), device(user)]);
    assert.deepEqual(
      (await heard(watching, user.userId, 800)).map((f) => f.status),
      ['online'],
    );
    await Promise.all(opened.map((s) => s.close()));
    assert.deepEqual(
      (await heard(watching, user.userId, QUIET_MS)).map((f) => f.status),
      ['offline'],
      'and offline once after the last',
    );
  });

  test('an id whose $disconnect was lost does not keep the user online', async () => {
    const { user, watching } = await partners();
    const s = await device(user);
    assert.equal((await heard(watching, user.userId, 400)).length, 1);
    // a socket that vanished an hour ago without its $disconnect: its row and its id are still there
    const ghost = `ghost-${randomUUID()}`;
    await rt.db.doc.send(
      new PutCommand({
        TableName: process.env.CONNECTIONS_TABLE,
        Item: {
          pk: `CONN#${ghost}`,
          sk: 'META',
          connectionId: ghost,
          userId: user.userId,
          connectedAt: new Date(Date.now() - 3600_000).toISOString(),
          expiresAt: Math.floor(Date.now() / 1000) + 3600,
        },
      }),
    );
    await rt.db.doc.send(
      new UpdateCommand({
        TableName: process.env.CONNECTIONS_TABLE,
        Key: { pk: `USER#${user.userId}`, sk: 'SOCKETS' },
        UpdateExpression: 'ADD ids :id',
        ExpressionAttributeValues: { ':id': new Set([ghost]) },
      }),
    );
    await s.close();
    assert.deepEqual(
      (await heard(watching, user.userId, QUIET_MS)).map((f) => f.status),
      ['offline'],
    );
    assert.equal((await socketSet(user.userId))?.ids, undefined, 'the ghost went with the last real socket');
    const row = await rt.db.doc.send(
      new GetCommand({ TableName: process.env.CONNECTIONS_TABLE, Key: { pk: `CONN#${ghost}`, sk: 'META' }, ConsistentRead: true }),
    );
    assert.equal(row.Item, undefined, 'and so did its row');
  });

  test('the worker claims conditionally: a redelivered message sends nothing twice', async () => {
    const { user, watching } = await partners();
    const s = await device(user);
    assert.equal((await heard(watching, user.userId, 400)).length, 1);
    await s.close();
    // the grace has not passed yet: deliver the queued message ourselves, twice, as SQS may
    const set = await eventually(
      () => socketSet(user.userId),
      (item) => item?.ids === undefined,
    );
    assert.deepEqual([set?.ids, set?.online], [undefined, true], 'closed, offline not yet announced');
    const body = JSON.stringify({ userId: user.userId, epoch: set?.epoch, lastSeen: new Date().toISOString() });
    const worker = await loadHandler(workers.presenceOffline);
    const event = (receiveCount: number): SQSEvent => ({
      Records: [
        {
          messageId: 'redelivered',
          receiptHandle: `redelivered#${receiveCount}`,
          body,
          attributes: {
            ApproximateReceiveCount: String(receiveCount),
            SentTimestamp: String(Date.now()),
            SenderId: 'test',
            ApproximateFirstReceiveTimestamp: String(Date.now()),
          },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:presence',
          awsRegion: 'us-east-1',
        },
      ],
    });
    const context = lambdaContext({ id: workers.presenceOffline.id, timeoutSeconds: 10 });
    assert.deepEqual(await worker(event(1), context), { batchItemFailures: [] });
    assert.deepEqual(await worker(event(2), context), { batchItemFailures: [] });
    assert.deepEqual(
      (await heard(watching, user.userId, 300)).map((f) => f.status),
      ['offline'],
      'the first delivery announced',
    );
    // the queue's own copy arrives after the grace as well: three deliveries, one offline
    assert.deepEqual(await heard(watching, user.userId, QUIET_MS), []);
  });
});
