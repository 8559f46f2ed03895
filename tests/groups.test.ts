// Group conversations end to end: real WebSocket clients and HTTP through the local gateway, the real
// handlers and DynamoDB Local, tweetnacl on the clients. The four-user scenario, then attacks:
// strangers, forged and oversized key maps, too many members, invitation spam.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import nacl from 'tweetnacl';
import { projectRoot } from '../local/lambda.ts';
import type { Runtime } from '../local/runtime.ts';
import { request, startTestRuntime, testEnv, type HttpReply, type TestSocket } from './support/runtime.ts';
import { bearer, connectAs, logIn, type Account, signUpWithKeys, type KeyedAccount, sealGroup } from './support/identity.ts';

let rt: Runtime;
const sockets: TestSocket[] = [];

before(async () => {
  rt = await startTestRuntime({
    GROUP_MAX_MEMBERS: '4',
    RATE_LIMITS: JSON.stringify({ ...JSON.parse(testEnv.RATE_LIMITS), inviteUser: { limit: 8, windowSeconds: 3600 } }),
  });
});
after(async () => {
  await Promise.all(sockets.map((s) => s.close().catch(() => undefined)));
  await rt?.stop();
});

type Person = KeyedAccount;

const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** Signs up and publishes a key set (version 1), as the SDK does. */
const person = (name: string): Promise<Person> => signUpWithKeys(rt, name);

const call = (who: Account, method: string, path: string, body?: unknown): Promise<HttpReply> =>
  request(rt.httpUrl, method, path, { headers: bearer(who.accessToken), ...(body === undefined ? {} : { body }) });

async function device(p: Account): Promise<TestSocket> {
  const s = await connectAs(rt, p.accessToken);
  sockets.push(s);
  return s;
}

/** A member opens its own wrapped key, then the message. */
function openGroup(m: { ciphertext: string; nonce: string; key?: { wrappedKey: string; nonce: string } }, from: Person, me: Person): string {
  assert.ok(m.key, 'the copy carries the reader’s wrapped key');
  const key = nacl.box.open(bytes(m.key.wrappedKey), bytes(m.key.nonce), from.box.publicKey, me.box.secretKey);
  assert.ok(key, 'the wrapped key opens');
  const plain = nacl.secretbox.open(bytes(m.ciphertext), bytes(m.nonce), key);
  assert.ok(plain, 'the message opens');
  return new TextDecoder().decode(plain);
}

const isType = (type: string) => (f: { type: string }) => f.type === type;
const history = (p: Account, g: string) => call(p, 'GET', `/api/conversations/${g}/messages`);
const sync = (p: Account) => call(p, 'GET', '/api/messages/sync');
const texts = (page: HttpReply) => (page.json.messages as { event?: unknown }[]).filter((m) => !m.event);

async function newGroup(admin: Person, name: string, invited: Person[]): Promise<string> {
  const r = await call(admin, 'POST', '/api/groups', { name, memberIds: invited.map((p) => p.userId) });
  assert.equal(r.status, 201, r.text);
  assert.match(r.json.conversationId, /^gr_[0-9a-f]{32}$/);
  return r.json.conversationId;
}

async function accept(p: Person, g: string) {
  const r = await call(p, 'POST', `/api/groups/${g}/invitations/accept`);
  assert.equal(r.status, 200, r.text);
}

describe('the four-user scenario', () => {
  test('create, accept, decline, send, remove, stale member set, non-admin invite, block', async () => {
    const [a, b, c, d] = (await Promise.all(['Ann', 'Bob', 'Cat', 'Dan'].map(person))) as [Person, Person, Person, Person];
    // 1. A creates a group with B, C and D
    const g = await newGroup(a, 'Climbing', [b, c, d]);
    for (const p of [b, c, d]) {
      const inv = await call(p, 'GET', '/api/groups/invitations');
      assert.deepEqual(
        inv.json.invitations.map((i: { conversationId: string; inviterId: string; name: string }) => [i.conversationId, i.inviterId, i.name]),
        [[g, a.userId, 'Climbing']],
      );
    }
    assert.equal((await call(b, 'GET', `/api/groups/${g}`)).status, 404, 'an invitee is not a member yet');
    // 2. B and C accept; D declines
    await accept(b, g);
    await accept(c, g);
    assert.equal((await call(d, 'POST', `/api/groups/${g}/invitations/decline`)).status, 204);
    assert.equal((await call(d, 'POST', `/api/groups/${g}/invitations/accept`)).status, 404, 'a declined invitation is gone');
    const view = await call(a, 'GET', `/api/groups/${g}`);
    assert.equal(view.status, 200, view.text);
    assert.equal(view.json.role, 'admin');
    assert.deepEqual(
      view.json.members.map((m: { userId: string; role: string; keyVersion: number }) => [m.userId, m.role, m.keyVersion]).sort(),
      [
        [a.userId, 'admin', 1],
        [b.userId, 'member', 1],
        [c.userId, 'member', 1],
      ].sort(),
    );
    // the inbox lists the group with its kind and name
    const inbox = await call(b, 'GET', '/api/conversations');
    const entry = inbox.json.conversations.find((x: { conversationId: string }) => x.conversationId === g);
    assert.deepEqual([entry?.kind, entry?.name, entry?.memberCount], ['group', 'Climbing', 3]);

    // 3. A sends; B and C decrypt (live, from sync and from history); D gets nothing
    const [sa, sb, sc, sd] = [await device(a), await device(b), await device(c), await device(d)];
    const first = sealGroup('first ascent', a, [a, b, c]);
    sa.send({ action: 'sendMessage', conversationId: g, ...first });
    const ack = await sa.next(isType('ack'));
    assert.equal(ack.conversationId, g);
    for (const [s, me] of [
      [sb, b],
      [sc, c],
    ] as const) {
      const m = await s.next(isType('message'));
      assert.equal(m.messageId, ack.messageId);
      assert.equal(m.senderId, a.userId);
      assert.equal(m.recipientId, me.userId);
      assert.equal(openGroup(m, a, me), 'first ascent');
      assert.deepEqual(Object.keys(m.key).sort(), ['keyVersion', 'nonce', 'wrappedKey'], 'only the reader’s own wrapped key');
      const synced = (await sync(me)).json.messages.find((x: { messageId: string }) => x.messageId === ack.messageId);
      assert.equal(openGroup(synced, a, me), 'first ascent');
      const hist = texts(await history(me, g));
      assert.equal(hist.length, 1);
      assert.equal(openGroup(hist[0] as never, a, me), 'first ascent');
    }
    assert.equal(openGroup(texts(await history(a, g))[0] as never, a, a), 'first ascent', 'the sender reads its own copy');
    await assert.rejects(sd.next(isType('message'), 300), 'D, who declined, gets nothing');
    assert.equal((await history(d, g)).status, 404);

    // 6. B, not an admin, cannot invite (nor remove, rename or change roles)
    assert.equal((await call(b, 'POST', `/api/groups/${g}/members`, { userIds: [d.userId] })).status, 403);
    assert.equal((await call(b, 'DELETE', `/api/groups/${g}/members/${c.userId}`)).status, 403);
    assert.equal((await call(b, 'PATCH', `/api/groups/${g}`, { name: 'Mine' })).status, 403);
    assert.equal((await call(b, 'PUT', `/api/groups/${g}/members/${b.userId}/role`, { role: 'admin' })).status, 403);
    assert.equal((await call(d, 'GET', '/api/groups/invitations')).json.invitations.length, 0, 'no invitation was made');

    // 7. C blocks A (before removal): A's messages stop reaching C, A cannot tell
    assert.equal((await call(c, 'POST', `/api/users/${a.userId}/block`)).status, 200);
    const blocked = sealGroup('after the block', a, [a, b, c]);
    sa.send({ action: 'sendMessage', conversationId: g, ...blocked });
    const ack2 = await sa.next(isType('ack'));
    assert.equal(openGroup(await sb.next(isType('message')), a, b), 'after the block');
    await assert.rejects(sc.next(isType('message'), 300), 'C hears nothing from A');
    assert.ok(!texts(await history(c, g)).some((m: any) => m.messageId === ack2.messageId), 'nor in history');
    assert.ok(!(await sync(c)).json.messages.some((m: { messageId: string }) => m.messageId === ack2.messageId), 'nor in sync');

    // 4. A removes C and sends again: C gets nothing, and history does not serve it
    assert.equal((await call(a, 'DELETE', `/api/groups/${g}/members/${c.userId}`)).status, 204);
    const updated = await sb.next(isType('groupUpdated'));
    assert.deepEqual([updated.conversationId, updated.event, updated.by, updated.userId], [g, 'removed', a.userId, c.userId]);
    // 5. a send with the stale member set gets members_changed, listing the current members and key versions
    const stale = sealGroup('still there?', a, [a, b, c]);
    sa.send({ action: 'sendMessage', conversationId: g, ...stale });
    const err = await sa.next(isType('error'));
    assert.equal(err.code, 'members_changed');
    assert.deepEqual(err.details, { [a.userId]: 1, [b.userId]: 1 });
    const http409 = await call(a, 'POST', `/api/groups/${g}/messages`, sealGroup('over http', a, [a, b, c]));
    assert.equal(http409.status, 409);
    assert.equal(http409.json.error.code, 'members_changed');
    // the SDK re-wraps for the current members and resends with the same clientMessageId
    const fresh = { ...sealGroup('without C', a, [a, b]), clientMessageId: stale.clientMessageId };
    sa.send({ action: 'sendMessage', conversationId: g, ...fresh });
    const ack3 = await sa.next(isType('ack'));
    assert.equal(openGroup(await sb.next(isType('message')), a, b), 'without C');
    await assert.rejects(
      sc.next((f) => f.type === 'message', 300),
      'C gets nothing',
    );
    assert.equal((await history(c, g)).status, 404, 'a removed member is answered as a stranger');
    assert.ok(!(await sync(c)).json.messages.some((m: { messageId: string }) => m.messageId === ack3.messageId));
    // a retry is acked with the first ack and stores nothing new
    sa.send({ action: 'sendMessage', conversationId: g, ...fresh });
    assert.equal((await sa.next(isType('ack'))).messageId, ack3.messageId);
    // the HTTP route sends the same way
    const viaHttp = await call(b, 'POST', `/api/groups/${g}/messages`, sealGroup('from Bob', b, [a, b]));
    assert.equal(viaHttp.status, 201, viaHttp.text);
    assert.equal(openGroup(await sa.next(isType('message')), b, a), 'from Bob');
    // membership changes are in the members' history as system entries
    const events = (await history(b, g)).json.messages.filter((m: { event?: unknown }) => m.event).map((m: any) => [m.event.type, m.senderId, m.event.userId]);
    assert.deepEqual(events.reverse(), [
      ['joined', a.userId, b.userId],
      ['joined', a.userId, c.userId],
      ['removed', a.userId, c.userId],
    ]);
  });
});

describe('roles and leaving', () => {
  test('the last admin leaving makes the longest-standing member admin; the last admin cannot step down', async () => {
    const [a, b, c] = (await Promise.all(['Amy', 'Ben', 'Cal'].map(person))) as [Person, Person, Person];
    const g = await newGroup(a, 'Book club', [b, c]);
    await accept(b, g);
    await accept(c, g);
    const down = await call(a, 'PUT', `/api/groups/${g}/members/${a.userId}/role`, { role: 'member' });
    assert.equal(down.status, 409);
    assert.equal(down.json.error.code, 'last_admin');
    assert.equal((await call(a, 'POST', `/api/groups/${g}/leave`)).status, 204);
    const view = await call(b, 'GET', `/api/groups/${g}`);
    assert.equal(view.json.role, 'admin', 'B joined before C');
    assert.equal((await call(c, 'GET', `/api/groups/${g}`)).json.role, 'member');
    assert.equal((await call(a, 'GET', `/api/groups/${g}`)).status, 404);
    assert.equal((await call(b, 'PATCH', `/api/groups/${g}`, { name: 'Books' })).json.name, 'Books');
    assert.equal((await call(b, 'PUT', `/api/groups/${g}/members/${c.userId}/role`, { role: 'admin' })).status, 204);
    assert.equal((await call(c, 'GET', `/api/groups/${g}`)).json.role, 'admin');
  });
});

describe('attacks', () => {
  test('strangers get 404 everywhere; forged and oversized key maps are refused and store nothing', async () => {
    const [a, b, x] = (await Promise.all(['Ari', 'Bo', 'Xan'].map(person))) as [Person, Person, Person];
    const g = await newGroup(a, 'Private', [b]);
    await accept(b, g);
    for (const [method, path, body] of [
      ['GET', `/api/groups/${g}`],
      ['PATCH', `/api/groups/${g}`, { name: 'pwned' }],
      ['POST', `/api/groups/${g}/members`, { userIds: [x.userId] }],
      ['DELETE', `/api/groups/${g}/members/${b.userId}`],
      ['PUT', `/api/groups/${g}/members/${x.userId}/role`, { role: 'admin' }],
      ['POST', `/api/groups/${g}/leave`],
      ['POST', `/api/groups/${g}/invitations/accept`],
      ['POST', `/api/groups/${g}/invitations/decline`],
      ['GET', `/api/conversations/${g}/messages`],
    ] as const) {
      const r = await call(x, method, path, body);
      assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
    }
    const intrude = await call(x, 'POST', `/api/groups/${g}/messages`, sealGroup('hi', x, [a, b, x]));
    assert.equal(intrude.status, 404);
    // a member's forged map: an extra key for a stranger, a wrong version, a missing member
    for (const keys of [sealGroup('x', a, [a, b, x]).keys, sealGroup('x', a, [a, b], { [b.userId]: 2 }).keys, sealGroup('x', a, [a]).keys]) {
      const r = await call(a, 'POST', `/api/groups/${g}/messages`, { ...sealGroup('x', a, [a, b]), keys });
      assert.equal(r.status, 409, r.text);
    }
    const huge = Object.fromEntries(
      Array.from({ length: 1001 }, () => [randomUUID(), { wrappedKey: b64(new Uint8Array(48)), nonce: b64(new Uint8Array(24)), keyVersion: 1 }]),
    );
    assert.equal((await call(a, 'POST', `/api/groups/${g}/messages`, { ...sealGroup('x', a, [a, b]), keys: huge })).status, 400);
    const bad = await call(a, 'POST', `/api/groups/${g}/messages`, {
      ...sealGroup('x', a, [a, b]),
      keys: { 'not-a-user': { wrappedKey: 'AA==', nonce: 'AA==', keyVersion: 1 } },
    });
    assert.equal(bad.status, 400);
    assert.equal(texts(await history(b, g)).length, 0, 'nothing was stored');
    // a group id on the 1:1 route is refused before anything is read
    assert.equal(
      (await call(a, 'POST', `/api/conversations/${g}/messages`, { ...sealGroup('x', a, [a, b]), keys: undefined, recipientKeyVersion: 1 })).status,
      400,
    );
  });

  test('the member limit holds (GROUP_MAX_MEMBERS=4 here); invitations from someone the invitee blocks never arrive; spam is rate-limited', async () => {
    const people = (await Promise.all(['P1', 'P2', 'P3', 'P4', 'P5'].map(person))) as Person[];
    const [owner, ...rest] = people as [Person, ...Person[]];
    const g = await newGroup(owner, 'Full', rest);
    for (const p of rest.slice(0, 3)) await accept(p, g);
    const full = await call(rest[3]!, 'POST', `/api/groups/${g}/invitations/accept`);
    assert.equal(full.status, 409);
    assert.equal(full.json.error.code, 'group_full');
    // a victim who blocks the spammer never sees an invitation; the spammer cannot tell
    const [spammer, victim] = (await Promise.all(['Spam', 'Vic'].map(person))) as [Person, Person];
    assert.equal((await call(victim, 'POST', `/api/users/${spammer.userId}/block`)).status, 200);
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await call(spammer, 'POST', '/api/groups', { name: `spam ${i}`, memberIds: [victim.userId] })).status);
    assert.deepEqual(statuses, [...Array(8).fill(201), 429], 'inviteUser: 8 an hour here');
    assert.equal((await call(victim, 'GET', '/api/groups/invitations')).json.invitations.length, 0);
  });
});

describe('typing, receipts and blocks inside groups', () => {
  test('typing and per-member receipts reach the other current members only, never across a block either way', async () => {
    const [a, b, c, d, x] = (await Promise.all(['Gia', 'Hal', 'Ida', 'Jo', 'Kit'].map(person))) as [Person, Person, Person, Person, Person];
    const g = await newGroup(a, 'Signals', [b, c, d]);
    for (const p of [b, c, d]) await accept(p, g);
    assert.equal((await call(a, 'DELETE', `/api/groups/${g}/members/${d.userId}`)).status, 204);
    // C blocks A: both stay members
    assert.equal((await call(c, 'POST', `/api/users/${a.userId}/block`)).status, 200);
    const [sa, sb, sc, sd, sx] = [await device(a), await device(b), await device(c), await device(d), await device(x)];

    // typing: A's reaches B only (not C, who blocks A; not D, removed; not X, a stranger)
    sa.send({ action: 'typing', conversationId: g });
    assert.deepEqual(await sb.next(isType('typing')), { type: 'typing', from: a.userId, conversationId: g });
    // B's reaches A and C; C's first typing frame is B's, so none of A's arrived before it
    sb.send({ action: 'typing', conversationId: g });
    assert.equal((await sa.next(isType('typing'))).from, b.userId);
    assert.equal((await sc.next(isType('typing'))).from, b.userId);
    // C's reaches B, never A (A cannot tell: C's frame is answered exactly like B's, with nothing)
    sc.send({ action: 'typing', conversationId: g });
    assert.equal((await sb.next(isType('typing'))).from, c.userId);
    // strangers and removed members are answered as for a group that does not exist
    for (const s of [sx, sd]) {
      s.send({ action: 'typing', conversationId: g });
      assert.equal((await s.next(isType('error'))).code, 'conversation_not_found');
    }

    // A sends (C gets no copy); B sends (everyone gets one)
    sa.send({ action: 'sendMessage', conversationId: g, ...sealGroup('from A', a, [a, b, c]) });
    const fromA = await sa.next(isType('ack'));
    assert.equal((await sb.next(isType('message'))).messageId, fromA.messageId);
    sb.send({ action: 'sendMessage', conversationId: g, ...sealGroup('from B', b, [a, b, c]) });
    const fromB = await sb.next(isType('ack'));
    assert.equal((await sa.next(isType('message'))).messageId, fromB.messageId);
    assert.equal((await sc.next(isType('message'))).messageId, fromB.messageId, 'C gets B’s messages');

    // B reads up to A's message: A hears it (receipts are per member: "by" B)
    sb.send({ action: 'delivered', conversationId: g, upToMessageId: fromA.messageId });
    assert.deepEqual(await sa.next(isType('delivered')), { type: 'delivered', conversationId: g, by: b.userId, upToMessageId: fromA.messageId });
    sb.send({ action: 'markRead', conversationId: g, upToMessageId: fromB.messageId });
    assert.deepEqual(await sa.next(isType('read')), { type: 'read', conversationId: g, by: b.userId, upToMessageId: fromB.messageId });
    assert.equal((await sc.next(isType('read'))).by, b.userId, 'C hears B’s receipts');
    // C holds no copy of A's message: a receipt for it is a 404, like any message not in C's history
    sc.send({ action: 'markRead', conversationId: g, upToMessageId: fromA.messageId });
    assert.equal((await sc.next(isType('error'))).code, 'message_not_found');
    // C reads B's message: B hears it, A does not (A's next read frame is B's later one)
    sc.send({ action: 'markRead', conversationId: g, upToMessageId: fromB.messageId });
    assert.deepEqual(await sb.next(isType('read')), { type: 'read', conversationId: g, by: c.userId, upToMessageId: fromB.messageId });
    // A reads B's message: B hears it, C does not (C's next read frame is B's later one)
    sa.send({ action: 'markRead', conversationId: g, upToMessageId: fromB.messageId });
    assert.equal((await sb.next(isType('read'))).by, a.userId);
    // positions only move forward: reading back tells no one
    sb.send({ action: 'markRead', conversationId: g, upToMessageId: fromA.messageId });
    sb.send({ action: 'typing', conversationId: g });
    assert.equal((await sa.next(isType('typing'))).from, b.userId);
    sb.send({ action: 'sendMessage', conversationId: g, ...sealGroup('again', b, [a, b, c]) });
    const later = await sb.next(isType('ack'));
    await sa.next((f) => f.type === 'message' && f.messageId === later.messageId);
    sb.send({ action: 'markRead', conversationId: g, upToMessageId: later.messageId });
    const [toA, toC] = await Promise.all([sa.next(isType('read')), sc.next(isType('read'))]);
    assert.equal(toA.upToMessageId, later.messageId, 'A heard nothing of C’s read nor of B reading back');
    assert.equal(toC.upToMessageId, later.messageId, 'C heard nothing of A’s read');
    assert.equal(toC.by, b.userId);
    // each member's own position shows in its inbox
    const inboxB = await call(b, 'GET', '/api/conversations');
    const entry = inboxB.json.conversations.find((i: { conversationId: string }) => i.conversationId === g);
    assert.deepEqual([entry.readUpTo, entry.unreadCount], [later.messageId, 0]);
    const inboxA = await call(a, 'GET', '/api/conversations');
    assert.equal(inboxA.json.conversations.find((i: { conversationId: string }) => i.conversationId === g).readUpTo, fromB.messageId);
    // receipts from outside the group: the 404 of a group that does not exist
    for (const s of [sx, sd]) {
      s.send({ action: 'markRead', conversationId: g, upToMessageId: fromB.messageId });
      assert.equal((await s.next(isType('error'))).code, 'conversation_not_found');
    }
    // D (removed) and X heard nothing at all
    await assert.rejects(
      sd.next((f) => ['typing', 'read', 'delivered'].includes(f.type), 300),
      /no matching frame/,
    );
    await assert.rejects(
      sx.next((f) => ['typing', 'read', 'delivered'].includes(f.type), 300),
      /no matching frame/,
    );
  });
});

describe('moderation in groups', () => {
  test('a member reports a group message revealing its plaintext; moderators see the group; sanctioned users cannot send', async () => {
    const [a, b, c, x, mod] = (await Promise.all(['Lu', 'Max', 'Ned', 'Oz', 'Mod'].map(person))) as [Person, Person, Person, Person, Person];
    const grant = spawnSync(
      process.execPath,
      [join(projectRoot, 'bin', 'admin.ts'), 'grant', '--email', mod.email, '--role', 'moderator', '--data-dir', rt.dataDir],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(grant.status, 0, grant.stderr);
    const moderator = { ...mod, ...(await logInAgain(mod)) };
    const g = await newGroup(a, 'Trouble', [b, c]);
    await accept(b, g);
    await accept(c, g);
    assert.equal((await call(c, 'POST', `/api/users/${a.userId}/block`)).status, 200);
    const sent = await call(a, 'POST', `/api/groups/${g}/messages`, sealGroup('buy my pills', a, [a, b, c]));
    assert.equal(sent.status, 201, sent.text);
    const bad = sent.json.messageId as string;
    const fromB = (await call(b, 'POST', `/api/groups/${g}/messages`, sealGroup('ok', b, [a, b, c]))).json.messageId as string;
    const body = { targetUserId: a.userId, conversationId: g, reason: 'scam', messageIds: [bad], evidence: [{ messageId: bad, plaintext: 'buy my pills' }] };

    // B reports A's group message, revealing the plaintext it chose to
    const filed = await call(b, 'POST', '/api/reports', body);
    assert.equal(filed.status, 201, filed.text);
    assert.equal(filed.json.targetUserId, a.userId);
    assert.equal(filed.json.group, undefined, 'the reporter’s view is unchanged');
    assert.equal((await call(b, 'POST', '/api/reports', body)).status, 200, 'filing it again is idempotent');
    // the moderators' queue shows the group context as it was when the report was filed
    const queue = await call(moderator, 'GET', '/api/admin/reports?reason=scam');
    assert.equal(queue.status, 200, queue.text);
    const item = queue.json.reports.find((r: { reportId: string }) => r.reportId === filed.json.reportId);
    assert.deepEqual(item.group, { conversationId: g, name: 'Trouble', memberCount: 3 });
    assert.deepEqual(item.evidence, [{ messageId: bad, plaintext: 'buy my pills' }]);
    const one = await call(moderator, 'GET', `/api/admin/reports/${filed.json.reportId}`);
    assert.deepEqual(one.json.report.group, { conversationId: g, name: 'Trouble', memberCount: 3 });

    // what cannot be reported as a group message
    const refused = async (who: Person, over: Record<string, unknown>, status: number, code: string) => {
      const r = await call(who, 'POST', '/api/reports', { ...body, ...over });
      assert.equal(r.status, status, r.text);
      assert.equal(r.json.error.code, code);
    };
    await refused(x, {}, 404, 'conversation_not_found'); // a stranger to the group
    await refused(c, {}, 400, 'foreign_message'); // C blocks A: it holds no copy of A's message
    await refused(b, { messageIds: [fromB], evidence: undefined }, 400, 'foreign_message'); // not the target's message
    await refused(b, { conversationId: undefined }, 400, 'foreign_message'); // not in B's direct conversation with A
    await refused(b, { conversationId: g.replace(/.$/, (d) => (d === '0' ? '1' : '0')) }, 404, 'conversation_not_found');

    // suspended and banned members cannot send to the group, over HTTP or their open sockets
    const sc = await device(c);
    const suspended = await call(moderator, 'POST', `/api/admin/users/${a.userId}/suspend`, { durationHours: 1, note: 'scam' });
    assert.equal(suspended.status, 200, suspended.text);
    const banned = await call(moderator, 'POST', `/api/admin/users/${c.userId}/ban`, { note: 'scam ring' });
    assert.equal(banned.status, 200, banned.text);
    for (const p of [a, c]) {
      const r = await call(p, 'POST', `/api/groups/${g}/messages`, sealGroup('still here', p, [a, b, c]));
      assert.equal(r.status, 401, r.text);
    }
    await sc.closed;
    const relog = await logIn(rt, a.email, a.password);
    assert.equal(relog.json.error.code, 'account_suspended');
    assert.deepEqual(
      texts(await history(b, g)).map((m: any) => m.messageId),
      [fromB, bad],
      'nothing new was stored',
    );
  });
});

async function logInAgain(p: Person) {
  const r = await logIn(rt, p.email, p.password);
  assert.equal(r.status, 200, r.text);
  return { accessToken: r.json.accessToken as string };
}

describe('presence follows membership', () => {
  test('co-members of a group hear online and offline, with no direct conversation; a removed member and a non-member do not', async () => {
    const [a, b, c, d] = [await person('Pam'), await person('Quinn'), await person('Rex'), await person('Sol')];
    const g = await newGroup(a, 'Presence', [b, c]);
    await accept(b, g);
    await accept(c, g);
    assert.equal((await call(a, 'DELETE', `/api/groups/${g}/members/${c.userId}`)).status, 204);
    const [sa, sc, sd] = [await device(a), await device(c), await device(d)];
    const sb = await device(b);
    const online = await sa.next((f: { type: string; userId?: string; status?: string }) => f.type === 'presence' && f.userId === b.userId);
    assert.equal(online.status, 'online', 'a co-member hears it, with no direct conversation between them');
    await sb.close();
    const offline = await sa.next(
      (f: { type: string; userId?: string; status?: string }) => f.type === 'presence' && f.userId === b.userId && f.status === 'offline',
    );
    assert.ok(offline.lastSeen);
    // c (removed before) and d (never a member) heard nothing of b
    for (const s of [sc, sd]) {
      await assert.rejects(
        s.next((f: { type: string; userId?: string }) => f.type === 'presence' && f.userId === b.userId, 300),
        /no matching frame/,
      );
    }
  });
});
