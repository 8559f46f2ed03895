// Realtime messaging end to end: real WebSocket clients through the local gateway, the real
// handlers and DynamoDB Local. Devices, offline sync, idempotency, dead connections, access
// control, receipts, typing, presence, tickets, size limits, and the privacy canary.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import nacl from 'tweetnacl';
import type { Runtime } from '../local/runtime.ts';
import { tables } from '../lib/tables.ts';
import { eventually, openSocket, request, startTestRuntime, type TestSocket } from './support/runtime.ts';
import { captureOutput } from './support/capture.ts';
import { bearer, connectAs, signUp, type Account } from './support/identity.ts';

let rt: Runtime;
let doc: Runtime['db']['doc'];
const sockets: TestSocket[] = [];

before(async () => {
  rt = await startTestRuntime();
  doc = rt.db.doc;
});
after(async () => {
  await Promise.all(sockets.map((s) => s.close().catch(() => undefined)));
  await rt?.stop();
});

interface Person extends Account {
  box: nacl.BoxKeyPair;
}

async function person(name: string): Promise<Person> {
  const account = await signUp(rt, { displayName: name });
  return { ...account, box: nacl.box.keyPair() };
}

async function device(p: Account): Promise<TestSocket> {
  const s = await connectAs(rt, p.accessToken);
  sockets.push(s);
  return s;
}

/** What a real client sends: tweetnacl box of the text for the recipient. */
function seal(text: string, from: Person, to: Person) {
  const nonce = nacl.randomBytes(24);
  const box = nacl.box(new TextEncoder().encode(text), nonce, to.box.publicKey, from.box.secretKey);
  return { ciphertext: Buffer.from(box).toString('base64'), nonce: Buffer.from(nonce).toString('base64'), senderKeyVersion: 1, recipientKeyVersion: 1 };
}

function open(frame: { ciphertext: string; nonce: string }, from: Person, to: Person): string {
  const plain = nacl.box.open(Buffer.from(frame.ciphertext, 'base64'), Buffer.from(frame.nonce, 'base64'), from.box.publicKey, to.box.secretKey);
  assert.ok(plain, 'decrypts');
  return new TextDecoder().decode(plain);
}

function sendFrame(to: Person, text: string, from: Person, clientMessageId = randomUUID()) {
  return { action: 'sendMessage', to: to.userId, clientMessageId, ...seal(text, from, to) };
}

const isType = (type: string) => (f: { type: string }) => f.type === type;
const sync = (p: Account, after = '') => request(rt.httpUrl, 'GET', `/api/messages/sync?after=${after}`, { headers: bearer(p.accessToken) });
const history = (p: Account, conversationId: string, qs = '') =>
  request(rt.httpUrl, 'GET', `/api/conversations/${conversationId}/messages${qs}`, { headers: bearer(p.accessToken) });

describe('delivery', () => {
  test("A sends to B on two devices: both receive, A gets an ack, A's second device sees it too", async () => {
    const [a, b] = [await person('Alice'), await person('Bob')];
    const [a1, a2, b1, b2] = [await device(a), await device(a), await device(b), await device(b)];
    const frame = sendFrame(b, 'hello bob', a);
    a1.send(frame);
    const ack = await a1.next(isType('ack'));
    assert.equal(ack.clientMessageId, frame.clientMessageId);
    assert.match(ack.messageId, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.ok(!Number.isNaN(Date.parse(ack.sentAt)));
    for (const s of [b1, b2, a2]) {
      const m = await s.next(isType('message'));
      assert.equal(m.messageId, ack.messageId);
      assert.equal(m.senderId, a.userId, 'the sender is the caller, never input');
      assert.equal(m.conversationId, ack.conversationId);
    }
    assert.equal(open(await Promise.resolve(frame), a, b), 'hello bob');
    await assert.rejects(a1.next(isType('message'), 300), 'the sending device gets the ack, not an echo');
  });

  test('a sender cannot name another user as the sender', async () => {
    const [a, b, c] = [await person('Ann'), await person('Ben'), await person('Cid')];
    const s = await device(a);
    s.send({ ...sendFrame(b, 'spoof', a), senderId: c.userId });
    const err = await s.next(isType('error'));
    assert.equal(err.code, 'validation_failed');
    s.send({ ...sendFrame(b, 'spoof', a), from: c.userId });
    assert.equal((await s.next(isType('error'))).code, 'validation_failed');
    assert.equal((await sync(b)).json.messages.length, 0, 'nothing stored');
  });

  test('B offline: everything is synced exactly once, in order, across reconnects', async () => {
    const [a, b] = [await person('Ada'), await person('Bea')];
    const s = await device(a);
    const texts = Array.from({ length: 12 }, (_, i) => `offline ${i}`);
    const acks = [];
    for (const t of texts) {
      s.send(sendFrame(b, t, a));
      acks.push(await s.next(isType('ack')));
    }
    const first = await sync(b);
    assert.equal(first.status, 200);
    assert.deepEqual(
      first.json.messages.map((m: { messageId: string }) => m.messageId),
      acks.map((x) => x.messageId),
    );
    assert.equal(first.json.hasMore, false);
    assert.deepEqual(
      first.json.messages.map((m: any) => open(m, a, b)),
      texts,
    );
    // reconnect: nothing new after the cursor
    const again = await sync(b, first.json.cursor);
    assert.deepEqual(again.json.messages, []);
    // more while away: only those
    s.send(sendFrame(b, 'later', a));
    await s.next(isType('ack'));
    const later = await sync(b, first.json.cursor);
    assert.equal(later.json.messages.length, 1);
    assert.equal(open(later.json.messages[0], a, b), 'later');
    // paging with a small limit walks the same stream without gaps or repeats
    const seen: string[] = [];
    let cursor = '';
    for (;;) {
      const page = await request(rt.httpUrl, 'GET', `/api/messages/sync?after=${cursor}&limit=5`, { headers: bearer(b.accessToken) });
      seen.push(...page.json.messages.map((m: { messageId: string }) => m.messageId));
      cursor = page.json.cursor;
      if (!page.json.hasMore) break;
    }
    assert.equal(seen.length, 13);
    assert.equal(new Set(seen).size, 13);
    // sync is the delivery queue: the sender's own messages are in history (and pushed to its other
    // connected devices), not in its queue
    assert.equal((await sync(a)).json.messages.length, 0);
    assert.equal((await history(a, acks[0].conversationId)).json.messages.length, 13);
  });

  test('the same clientMessageId, twice in a row and twice at once, stores one message', async () => {
    const [a, b] = [await person('Dee'), await person('Eli')];
    const s = await device(a);
    const frame = sendFrame(b, 'once', a);
    s.send(frame);
    const ack1 = await s.next(isType('ack'));
    s.send(frame);
    const ack2 = await s.next(isType('ack'));
    assert.deepEqual(ack2, ack1, 'a retry gets the same ack');
    const twin = sendFrame(b, 'twins', a);
    s.send(twin);
    s.send(twin);
    const [t1, t2] = [await s.next(isType('ack')), await s.next(isType('ack'))];
    assert.equal(t1.messageId, t2.messageId);
    // and through HTTP with the same id as the socket used
    const conv = ack1.conversationId;
    const { action: _a, to: _t, ...body } = twin;
    const viaHttp = await request(rt.httpUrl, 'POST', `/api/conversations/${conv}/messages`, { headers: bearer(a.accessToken), body });
    assert.equal(viaHttp.status, 200);
    assert.equal(viaHttp.json.messageId, t1.messageId);
    const hist = await history(b, conv);
    assert.equal(hist.json.messages.length, 2);
    assert.equal((await sync(b)).json.messages.length, 2);
  });

  test('many concurrent copies of one message over HTTP store exactly one', async () => {
    const [a, b] = [await person('Fay'), await person('Gus')];
    const conv = (await request(rt.httpUrl, 'POST', '/api/conversations', { headers: bearer(a.accessToken), body: { userId: b.userId } })).json.conversationId;
    const { action: _a, to: _t, ...body } = sendFrame(b, 'race', a);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => request(rt.httpUrl, 'POST', `/api/conversations/${conv}/messages`, { headers: bearer(a.accessToken), body })),
    );
    assert.equal(results.filter((r) => r.status === 201).length, 1, results.map((r) => r.status).join());
    assert.ok(results.every((r) => r.status === 201 || r.status === 200));
    assert.equal(new Set(results.map((r) => r.json.messageId)).size, 1);
    assert.equal((await history(b, conv)).json.messages.length, 1);
    assert.equal((await sync(b)).json.messages.length, 1);
  });

  test('a dead connection (410) is deleted and delivery to the others goes on', async () => {
    const [a, b] = [await person('Hal'), await person('Ivy')];
    const live = await device(b);
    const ghost = `ghost${randomBytes(6).toString('hex')}=`;
    await doc.send(
      new PutCommand({
        TableName: process.env.CONNECTIONS_TABLE,
        Item: {
          pk: `CONN#${ghost}`,
          sk: 'META',
          connectionId: ghost,
          userId: b.userId,
          connectedAt: new Date().toISOString(),
          expiresAt: Math.floor(Date.now() / 1000) + 3600,
        },
      }),
    );
    // and in the user's socket set, as if its $disconnect had been lost
    const socketsKey = { pk: `USER#${b.userId}`, sk: 'SOCKETS' };
    await doc.send(
      new UpdateCommand({
        TableName: process.env.CONNECTIONS_TABLE,
        Key: socketsKey,
        UpdateExpression: 'ADD ids :id',
        ExpressionAttributeValues: { ':id': new Set([ghost]) },
      }),
    );
    const s = await device(a);
    s.send(sendFrame(b, 'still delivered', a));
    await s.next(isType('ack'));
    const m = await live.next(isType('message'));
    assert.equal(open(m, a, b), 'still delivered');
    const rows = await eventually(
      async () => (await doc.send(new ScanCommand({ TableName: process.env.CONNECTIONS_TABLE }))).Items ?? [],
      (items) => !items.some((i) => i.connectionId === ghost),
    );
    assert.ok(!rows.some((i) => i.connectionId === ghost), 'the gone connection was deleted');
    const set = await eventually(
      async () =>
        (await doc.send(new GetCommand({ TableName: process.env.CONNECTIONS_TABLE, Key: socketsKey, ConsistentRead: true }))).Item?.ids as Set<string>,
      (ids) => !ids.has(ghost),
    );
    assert.ok(!set.has(ghost) && set.size === 1, 'and forgotten in the socket set, where the live one stays');
    assert.ok(
      rows.some((i) => i.userId === b.userId),
      'the live one stays',
    );
  });
});

describe('limits and bad input', () => {
  test('oversized ciphertext, a wrong nonce, garbage base64 get clear error frames and store nothing', async () => {
    const [a, b] = [await person('Jo'), await person('Kim')];
    const s = await device(a);
    const base = sendFrame(b, 'x', a);
    s.send({ ...base, ciphertext: randomBytes(64 * 1024 + 1).toString('base64') });
    const big = await s.next(isType('error'));
    assert.equal(big.code, 'ciphertext_too_large');
    assert.match(big.message, /64 KiB/);
    s.send({ ...base, clientMessageId: randomUUID(), nonce: randomBytes(12).toString('base64') });
    assert.equal((await s.next(isType('error'))).code, 'bad_nonce');
    s.send({ ...base, clientMessageId: randomUUID(), ciphertext: '***not base64***' });
    assert.equal((await s.next(isType('error'))).code, 'validation_failed');
    s.send({ ...base, clientMessageId: randomUUID(), to: a.userId });
    assert.equal((await s.next(isType('error'))).code, 'cannot_message_self');
    s.send({ ...base, clientMessageId: randomUUID(), to: randomUUID() });
    assert.equal((await s.next(isType('error'))).code, 'user_not_found');
    // exactly 64 KiB is fine
    s.send({ ...base, clientMessageId: randomUUID(), ciphertext: randomBytes(64 * 1024).toString('base64') });
    assert.equal((await s.next(isType('ack'))).type, 'ack');
    assert.equal((await sync(b)).json.messages.length, 1);
  });

  test('history pages newest first with a cursor; limit is at most 100', async () => {
    const [a, b] = [await person('Lou'), await person('Max')];
    const s = await device(a);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      s.send(sendFrame(b, `h${i}`, a));
      ids.push((await s.next(isType('ack'))).messageId);
    }
    const conv = (await sync(b)).json.messages[0].conversationId;
    const p1 = await history(b, conv, '?limit=3');
    assert.deepEqual(
      p1.json.messages.map((m: { messageId: string }) => m.messageId),
      ids.slice(-3).reverse(),
    );
    const p2 = await history(b, conv, `?limit=3&before=${p1.json.before}`);
    assert.deepEqual(
      p2.json.messages.map((m: { messageId: string }) => m.messageId),
      ids.slice(1, 4).reverse(),
    );
    const p3 = await history(b, conv, `?limit=3&before=${p2.json.before}`);
    assert.deepEqual(
      p3.json.messages.map((m: { messageId: string }) => m.messageId),
      [ids[0]],
    );
    assert.equal(p3.json.before, undefined);
    assert.equal((await history(b, conv, '?limit=101')).status, 400);
    assert.equal((await history(b, conv, '?before=not-an-id')).status, 400);
  });
});

describe('access control', () => {
  test('a user cannot read, send into, sync, mark or type into a conversation that is not theirs', async () => {
    const [a, b, c] = [await person('Nia'), await person('Oz'), await person('Pam')];
    const s = await device(a);
    s.send(sendFrame(b, 'private', a));
    const ack = await s.next(isType('ack'));
    const conv = ack.conversationId;
    assert.equal((await history(c, conv)).status, 404);
    const { action: _x, to: _y, ...body } = sendFrame(b, 'intrude', c as Person);
    const post = await request(rt.httpUrl, 'POST', `/api/conversations/${conv}/messages`, { headers: bearer(c.accessToken), body });
    assert.equal(post.status, 404);
    assert.equal((await sync(c)).json.messages.length, 0);
    const cs = await device(c);
    cs.send({ action: 'markRead', conversationId: conv, upToMessageId: ack.messageId });
    assert.equal((await cs.next(isType('error'))).code, 'conversation_not_found');
    cs.send({ action: 'typing', to: a.userId });
    assert.equal((await cs.next(isType('error'))).code, 'conversation_not_found');
    assert.equal((await history(b, conv)).json.messages.length, 1, 'only the real message');
    // no token at all
    assert.equal((await request(rt.httpUrl, 'GET', `/api/conversations/${conv}/messages`)).status, 401);
  });

  test('a socket lives only as long as its session: logout, logout-all, password change and deletion end it', async () => {
    const [a, b] = [await person('Sam'), await person('Tom')];
    await device(b);
    // logout ends this session's sockets, not the other session's
    const other = (await request(rt.httpUrl, 'POST', '/api/auth/login', { body: { email: a.email, password: a.password } })).json;
    const mine = await device(a);
    const theirs = await connectAs(rt, other.accessToken);
    sockets.push(theirs);
    assert.equal((await request(rt.httpUrl, 'POST', '/api/auth/logout', { headers: bearer(a.accessToken) })).status, 204);
    await mine.closed;
    theirs.send(sendFrame(b, 'still here', a));
    assert.equal((await theirs.next(isType('ack'))).type, 'ack');
    // a ticket from an ended session does not connect
    const staleTicket = (await request(rt.httpUrl, 'POST', '/api/ws/ticket', { headers: bearer(other.accessToken) })).json.ticket;
    await request(rt.httpUrl, 'POST', '/api/auth/logout-all', { headers: bearer(other.accessToken) });
    await theirs.closed;
    await assert.rejects(openSocket(`${rt.wsUrl}/?ticket=${staleTicket}`), (e: { status?: number }) => e.status === 401);
    // password change: the other sessions' sockets close, this one stays
    const c = await person('Uli');
    const second = (await request(rt.httpUrl, 'POST', '/api/auth/login', { body: { email: c.email, password: c.password } })).json;
    const [keep, drop] = [await device(c), await connectAs(rt, second.accessToken)];
    sockets.push(drop);
    await request(rt.httpUrl, 'POST', '/api/auth/password', {
      headers: bearer(c.accessToken),
      body: { currentPassword: c.password, newPassword: 'fresh-password-2026' },
    });
    await drop.closed;
    keep.send({ action: 'ping' });
    assert.equal((await keep.next(isType('pong'))).type, 'pong');
    // deletion
    const deleted = await request(rt.httpUrl, 'DELETE', '/api/users/me', { headers: bearer(c.accessToken), body: { password: 'fresh-password-2026' } });
    assert.equal(deleted.status, 204, deleted.text);
    await keep.closed;
  });

  test("replaying a used refresh token ends that session's sockets too", async () => {
    const [a, b] = [await person('Yan'), await person('Zoe')];
    const s = await device(a);
    await request(rt.httpUrl, 'POST', '/api/auth/refresh', { body: { refreshToken: a.refreshToken } });
    const replay = await request(rt.httpUrl, 'POST', '/api/auth/refresh', { body: { refreshToken: a.refreshToken } });
    assert.equal(replay.json.error.code, 'refresh_token_reused');
    await s.closed;
    const bs = await device(b);
    bs.send(sendFrame(a as Person, 'anyone there?', b));
    const ack = await bs.next(isType('ack'));
    assert.equal((await history(b, ack.conversationId)).json.messages.length, 1, 'stored (sync holds received messages, not sent ones)');
  });

  test("a stranger's message earns no presence and no typing into an inbox that never had the conversation", async () => {
    const [target, stranger, other] = [await person('Quiet'), await person('Stalker'), await person('Other')];
    const ss = await device(stranger);
    ss.send(sendFrame(target, 'hello?', stranger));
    await ss.next(isType('ack'));
    const ts = await device(target);
    await assert.rejects(
      ss.next((f) => f.type === 'presence' && f.userId === target.userId, 400),
      /no matching frame/,
      'no presence until the target replies',
    );
    // the target answers: now they are engaged, and presence flows
    ts.send(sendFrame(stranger, 'who is this?', target));
    await ts.next(isType('ack'));
    await ts.close();
    const offline = await ss.next((f) => f.type === 'presence' && f.userId === target.userId && f.status === 'offline');
    assert.ok(offline.lastSeen);
    // typing towards someone whose inbox does not have the conversation is dropped
    await request(rt.httpUrl, 'POST', '/api/conversations', { headers: bearer(stranger.accessToken), body: { userId: other.userId } });
    const os = await device(other);
    ss.send({ action: 'typing', to: other.userId });
    await assert.rejects(os.next(isType('typing'), 400), /no matching frame/);
  });

  test('a frame on a socket whose session ended elsewhere is refused and the socket closed', async () => {
    const [a, b] = [await person('Vera'), await person('Walt')];
    const s = await device(a);
    // end the session behind the gateway's back: revoke the family directly, as a crash mid-logout might leave it
    const { sessions } = await import('../functions/wiring/auth.ts');
    const sid = JSON.parse(Buffer.from(a.accessToken.split('.')[1]!, 'base64url').toString()).sid;
    await sessions().revoke(sid, 'test');
    s.send(sendFrame(b, 'after the end', a));
    const err = await s.next(isType('error'));
    assert.equal(err.code, 'token_revoked');
    await s.closed;
    assert.equal((await sync(b)).json.messages.length, 0, 'nothing was sent');
  });

  test('tickets are single-use and expire', async () => {
    const a = await person('Quin');
    const ticket = (await request(rt.httpUrl, 'POST', '/api/ws/ticket', { headers: bearer(a.accessToken) })).json;
    assert.equal(ticket.expiresIn, 30);
    const s = await openSocket(`${rt.wsUrl}/?ticket=${ticket.ticket}`);
    sockets.push(s);
    await assert.rejects(openSocket(`${rt.wsUrl}/?ticket=${ticket.ticket}`), (e: { status?: number }) => e.status === 401);
    const stale = (await request(rt.httpUrl, 'POST', '/api/ws/ticket', { headers: bearer(a.accessToken) })).json.ticket;
    rt.clock.advance(31_000); // past the ticket's 30 s
    await assert.rejects(openSocket(`${rt.wsUrl}/?ticket=${stale}`), (e: { status?: number }) => e.status === 401);
    assert.equal((await request(rt.httpUrl, 'POST', '/api/ws/ticket')).status, 401, 'tickets need a signed-in user');
  });
});

describe('conversations, receipts, typing, presence', () => {
  test('POST /api/conversations creates the direct conversation once, also concurrently', async () => {
    const [a, b] = [await person('Ray'), await person('Sue')];
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        request(rt.httpUrl, 'POST', '/api/conversations', { headers: bearer((i % 2 ? b : a).accessToken), body: { userId: (i % 2 ? a : b).userId } }),
      ),
    );
    assert.equal(results.filter((r) => r.status === 201).length, 1, results.map((r) => r.status).join());
    assert.equal(new Set(results.map((r) => r.json.conversationId)).size, 1);
    assert.equal(results[0]!.json.peer.userId, b.userId);
    assert.equal(results[0]!.json.peer.displayName, 'Sue');
    assert.equal((await request(rt.httpUrl, 'POST', '/api/conversations', { headers: bearer(a.accessToken), body: { userId: a.userId } })).status, 400);
    assert.equal((await request(rt.httpUrl, 'POST', '/api/conversations', { headers: bearer(a.accessToken), body: { userId: randomUUID() } })).status, 404);
  });

  test('the inbox lists conversations by latest activity with unread counts; markRead clears them and tells the sender', async () => {
    const [a, b, c] = [await person('Tia'), await person('Uma'), await person('Vic')];
    const [sa, sc, sb] = [await device(a), await device(c), await device(b)];
    sa.send(sendFrame(b, 'from a 1', a));
    await sa.next(isType('ack'));
    sa.send(sendFrame(b, 'from a 2', a));
    const lastFromA = await sa.next(isType('ack'));
    sc.send(sendFrame(b, 'from c', c));
    await sc.next(isType('ack'));
    const inbox = await request(rt.httpUrl, 'GET', '/api/conversations', { headers: bearer(b.accessToken) });
    assert.equal(inbox.status, 200);
    assert.deepEqual(
      inbox.json.conversations.map((x: any) => x.peer.userId),
      [c.userId, a.userId],
      'latest activity first',
    );
    assert.deepEqual(
      inbox.json.conversations.map((x: any) => x.unreadCount),
      [1, 2],
    );
    assert.equal(inbox.json.conversations[1].lastMessage.messageId, lastFromA.messageId);
    assert.equal(inbox.json.conversations[1].peer.displayName, 'Tia');

    sb.send({ action: 'delivered', conversationId: lastFromA.conversationId, upToMessageId: lastFromA.messageId });
    const delivered = await sa.next(isType('delivered'));
    assert.deepEqual([delivered.by, delivered.upToMessageId], [b.userId, lastFromA.messageId]);
    sb.send({ action: 'markRead', conversationId: lastFromA.conversationId, upToMessageId: lastFromA.messageId });
    const read = await sa.next(isType('read'));
    assert.deepEqual([read.by, read.conversationId, read.upToMessageId], [b.userId, lastFromA.conversationId, lastFromA.messageId]);
    const after = await request(rt.httpUrl, 'GET', '/api/conversations', { headers: bearer(b.accessToken) });
    assert.deepEqual(
      after.json.conversations.map((x: any) => x.unreadCount),
      [1, 0],
    );
    assert.equal(after.json.conversations[1].readUpTo, lastFromA.messageId);
    // the sender's own messages never count as unread for the sender
    const aInbox = await request(rt.httpUrl, 'GET', '/api/conversations', { headers: bearer(a.accessToken) });
    assert.equal(aInbox.json.conversations[0].unreadCount, 0);
    // paging the inbox
    const page = await request(rt.httpUrl, 'GET', '/api/conversations?limit=1', { headers: bearer(b.accessToken) });
    assert.equal(page.json.conversations.length, 1);
    const next = await request(rt.httpUrl, 'GET', `/api/conversations?limit=1&cursor=${page.json.cursor}`, { headers: bearer(b.accessToken) });
    assert.equal(next.json.conversations[0].peer.userId, a.userId);
    const foreign = await request(rt.httpUrl, 'GET', `/api/conversations?cursor=${page.json.cursor}`, { headers: bearer(a.accessToken) });
    assert.equal(foreign.status, 400, "someone else's cursor is refused");
  });

  test("a direct message may name the conversation's id instead of `to`; a stranger's frame naming it stores nothing", async () => {
    const [a, b, c] = [await person('Yan'), await person('Zoe'), await person('Abe')];
    const [sa, sb, sc] = [await device(a), await device(b), await device(c)];
    sa.send(sendFrame(b, 'first', a));
    const first = await sa.next(isType('ack'));
    await sb.next(isType('message'));
    const { to: _to, ...byId } = sendFrame(b, 'by id', a);
    sa.send({ ...byId, conversationId: first.conversationId });
    const ack = await sa.next(isType('ack'));
    assert.equal(ack.conversationId, first.conversationId);
    const got = await sb.next(isType('message'));
    assert.deepEqual([got.messageId, open(got, a, b)], [ack.messageId, 'by id']);
    // a stranger who computed the id: the 404 of a conversation that does not exist, and nothing stored
    const { to: _t, ...forged } = sendFrame(b, 'intruder', c);
    sc.send({ ...forged, conversationId: first.conversationId });
    assert.equal((await sc.next(isType('error'))).code, 'conversation_not_found');
    const page = await history(b, first.conversationId);
    assert.deepEqual(
      page.json.messages.map((m: { messageId: string }) => m.messageId),
      [ack.messageId, first.messageId],
    );
  });

  test('sends rewrite the inbox entries but never undo a receipt; a position an older member item carries still counts', async () => {
    const [a, b] = [await person('Wes'), await person('Xia')];
    const [sa, sb] = [await device(a), await device(b)];
    sa.send(sendFrame(b, 'one', a));
    const first = await sa.next(isType('ack'));
    // receipts and sends in both directions at once: the read position lives apart from the member item
    const burst = ['two', 'three', 'four'].map((text) => sendFrame(b, text, a));
    for (const f of burst) sa.send(f);
    sb.send({ action: 'markRead', conversationId: first.conversationId, upToMessageId: first.messageId });
    sb.send(sendFrame(a, 'reply', b));
    for (let i = 0; i < burst.length; i++) await sa.next(isType('ack'));
    await sb.next(isType('ack'));
    await sa.next(isType('read'));
    const inbox = await request(rt.httpUrl, 'GET', '/api/conversations', { headers: bearer(b.accessToken) });
    const entry = inbox.json.conversations.find((x: { conversationId: string }) => x.conversationId === first.conversationId);
    assert.equal(entry.readUpTo, first.messageId, 'the read position survived the sends that rewrote the member item');
    assert.equal(entry.unreadCount, 3, 'two, three, four');
    // a member item written before positions had their own items: its position is still honoured
    const history = await request(rt.httpUrl, 'GET', `/api/conversations/${first.conversationId}/messages`, { headers: bearer(b.accessToken) });
    const newestFromA = history.json.messages.find((m: { senderId: string }) => m.senderId === a.userId).messageId;
    await doc.send(
      new UpdateCommand({
        TableName: process.env.MESSAGES_TABLE,
        Key: { pk: `CONV#${first.conversationId}`, sk: `MEMBER#${b.userId}` },
        UpdateExpression: 'SET readUpTo = :m',
        ExpressionAttributeValues: { ':m': newestFromA },
      }),
    );
    const legacy = await request(rt.httpUrl, 'GET', '/api/conversations', { headers: bearer(b.accessToken) });
    const legacyEntry = legacy.json.conversations.find((x: { conversationId: string }) => x.conversationId === first.conversationId);
    assert.deepEqual([legacyEntry.readUpTo, legacyEntry.unreadCount], [newestFromA, 0], 'the later of the two positions counts');
  });

  test('opening a conversation reveals nothing to its target until a message is delivered', async () => {
    const [mallory, target] = [await person('Mal'), await person('Tess')];
    const conv = await request(rt.httpUrl, 'POST', '/api/conversations', { headers: bearer(mallory.accessToken), body: { userId: target.userId } });
    assert.equal(conv.status, 201);
    const ms = await device(mallory);
    await device(target);
    await assert.rejects(
      ms.next((f) => f.type === 'presence', 400),
      /no matching frame/,
      'no presence of the target for a mere opener',
    );
    assert.deepEqual((await request(rt.httpUrl, 'GET', '/api/conversations', { headers: bearer(target.accessToken) })).json.conversations, []);
    ms.send(sendFrame(target, 'hello', mallory));
    await ms.next(isType('ack'));
    const inbox = await request(rt.httpUrl, 'GET', '/api/conversations', { headers: bearer(target.accessToken) });
    assert.deepEqual(
      inbox.json.conversations.map((c: { conversationId: string }) => c.conversationId),
      [conv.json.conversationId],
    );
  });

  test('typing reaches the partner; presence announces online and offline with lastSeen', async () => {
    const [a, b] = [await person('Wes'), await person('Xia')];
    const conv = (await request(rt.httpUrl, 'POST', '/api/conversations', { headers: bearer(a.accessToken), body: { userId: b.userId } })).json;
    const { action: _a, to: _t, ...first } = sendFrame(b, 'hi', a);
    await request(rt.httpUrl, 'POST', `/api/conversations/${conv.conversationId}/messages`, { headers: bearer(a.accessToken), body: first });
    const sb = await device(b);
    const sa = await device(a);
    const online = await sb.next((f) => f.type === 'presence' && f.userId === a.userId);
    assert.equal(online.status, 'online');
    sa.send({ action: 'typing', to: b.userId });
    const typing = await sb.next(isType('typing'));
    assert.equal(typing.from, a.userId);
    await sa.close();
    const offline = await sb.next((f) => f.type === 'presence' && f.userId === a.userId && f.status === 'offline');
    assert.ok(!Number.isNaN(Date.parse(offline.lastSeen)));
  });

  test('people search: exact email, display-name prefix, public fields only', async () => {
    const a = await person('Searcher');
    const target = await person(`Zelda ${randomBytes(3).toString('hex')}`);
    // exact addresses find only users who opted in (tests/search-privacy.test.ts)
    await request(rt.httpUrl, 'PATCH', '/api/users/me', { headers: bearer(target.accessToken), body: { discoverable: true, password: target.password } });
    const byEmail = await request(rt.httpUrl, 'GET', `/api/users/search?q=${encodeURIComponent(target.email)}`, { headers: bearer(a.accessToken) });
    assert.deepEqual(
      byEmail.json.users.map((u: { userId: string }) => u.userId),
      [target.userId],
    );
    assert.deepEqual(Object.keys(byEmail.json.users[0]).sort(), ['displayName', 'userId']);
    const byName = await request(rt.httpUrl, 'GET', '/api/users/search?q=zeL', { headers: bearer(a.accessToken) });
    assert.ok(byName.json.users.some((u: { userId: string }) => u.userId === target.userId));
    assert.ok(byName.json.users.every((u: { displayName: string }) => u.displayName.toLowerCase().startsWith('zel')));
    assert.equal((await request(rt.httpUrl, 'GET', '/api/users/search?q=z', { headers: bearer(a.accessToken) })).status, 400);
    const none = await request(rt.httpUrl, 'GET', '/api/users/search?q=nobody%40nowhere.test', { headers: bearer(a.accessToken) });
    assert.deepEqual(none.json.users, []);
  });
});

describe('privacy canary', () => {
  test('a random canary sent like a real client never appears in any table or any log line', async () => {
    const canary = `canary-${randomBytes(16).toString('hex')}`;
    const plaintext = `the eagle lands at dawn ${canary}`;
    const logs = await captureOutput(async () => {
      const [a, b] = [await person('Canary A'), await person('Canary B')];
      const [sa, sb] = [await device(a), await device(b)];
      sa.send(sendFrame(b, plaintext, a));
      await sa.next(isType('ack'));
      const got = await sb.next(isType('message'));
      assert.equal(open(got, a, b), plaintext, 'the recipient can read it');
      const { action: _a, to: _t, ...body } = sendFrame(b, plaintext, a);
      await request(rt.httpUrl, 'POST', `/api/conversations/${got.conversationId}/messages`, { headers: bearer(a.accessToken), body });
      await sync(b);
      await history(b, got.conversationId);
    }, 'DEBUG');
    assert.ok(logs.split('\n').length > 5, 'logs were captured');
    assert.ok(!logs.includes(canary) && !logs.includes('eagle lands'), 'no plaintext in logs');
    const canaryB64 = Buffer.from(canary).toString('base64').slice(4, 20);
    for (const t of tables) {
      const items = (await doc.send(new ScanCommand({ TableName: process.env[t.envVar] }))).Items ?? [];
      const dump = JSON.stringify(items);
      assert.ok(!dump.includes(canary), `canary in table ${t.id}`);
      assert.ok(!dump.includes('eagle lands'), `plaintext in table ${t.id}`);
      assert.ok(!dump.includes(canaryB64), `base64 canary in table ${t.id}`);
    }
    const messages = JSON.stringify((await doc.send(new ScanCommand({ TableName: process.env.MESSAGES_TABLE }))).Items);
    assert.match(messages, /"ciphertext":"/, 'the ciphertext itself is stored');
  });

  test('device linking: the account keys relayed to a new device (with a canary) reach no table and no log; the link table holds only ciphertext, and nothing after the claim', async () => {
    const canary = `canary-${randomBytes(16).toString('hex')}`;
    const a = await person('Canary Linker');
    const newDevice = nacl.box.keyPair();
    const sender = nacl.box.keyPair();
    const nonce = nacl.randomBytes(24);
    const secrets = JSON.stringify({ boxSecretKey: Buffer.from(a.box.secretKey).toString('base64'), note: canary });
    const ciphertext = Buffer.from(nacl.box(new TextEncoder().encode(secrets), nonce, newDevice.publicKey, sender.secretKey)).toString('base64');
    const dumpTables = async () =>
      JSON.stringify(await Promise.all(tables.map(async (t) => (await doc.send(new ScanCommand({ TableName: process.env[t.envVar] }))).Items)));
    let linkSecret = '';
    let whileApproved = '';
    const logs = await captureOutput(async () => {
      const link = await request(rt.httpUrl, 'POST', '/api/devices/links', {
        body: { publicKey: Buffer.from(newDevice.publicKey).toString('base64'), deviceName: 'Canary phone' },
      });
      assert.equal(link.status, 201, link.text);
      linkSecret = link.json.linkSecret;
      const approved = await request(rt.httpUrl, 'POST', `/api/devices/links/${link.json.linkId}/approve`, {
        headers: bearer(a.accessToken),
        body: { ciphertext, nonce: Buffer.from(nonce).toString('base64'), publicKey: Buffer.from(sender.publicKey).toString('base64'), password: a.password },
      });
      assert.equal(approved.status, 204, approved.text);
      whileApproved = await dumpTables();
      const claimed = await request(rt.httpUrl, 'POST', `/api/devices/links/${link.json.linkId}/claim`, { body: { linkSecret } });
      assert.equal(claimed.status, 200, claimed.text);
      assert.equal(claimed.json.ciphertext, ciphertext);
    }, 'DEBUG');
    assert.ok(whileApproved.includes(ciphertext), 'the link table holds the box while it waits for the claim');
    const after = await dumpTables();
    for (const [when, dump] of [
      ['while approved', whileApproved],
      ['after the claim', after],
    ] as const) {
      assert.ok(!dump.includes(canary), `canary in a table ${when}`);
      assert.ok(!dump.includes(Buffer.from(a.box.secretKey).toString('base64')), `a secret key in a table ${when}`);
      assert.ok(!dump.includes(linkSecret), `the link secret in a table ${when}`);
    }
    assert.ok(!after.includes(ciphertext.slice(0, 40)), 'the box left the table with the claim');
    assert.ok(!logs.includes(canary) && !logs.includes(ciphertext.slice(0, 40)) && !logs.includes(linkSecret), 'no canary, box or link secret in the logs');
  });
});
