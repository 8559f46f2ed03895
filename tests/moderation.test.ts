// Block & report end to end through the local gateway: blocking on every path with the blocked side
// unable to tell, reports and their validation, the moderation queue, sanctions that cut live
// sessions at once, auto-restriction, the audit log, and role grants by the admin CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import nacl from 'tweetnacl';
import type { Runtime } from '../local/runtime.ts';
import { reportsTable } from '../functions/adapters/dynamodb/reports-table.ts';
import { projectRoot } from '../local/lambda.ts';
import { routes } from '../lib/routes.ts';
import { deployedCliEnv, request, startTestRuntime, testEnv, type TestSocket } from './support/runtime.ts';
import { bearer, connectAs, logIn, me, refreshWith, signUp, type Account } from './support/identity.ts';

let rt: Runtime;
let doc: Runtime['db']['doc'];
let admin: Account;
let moderator: Account;
const sockets: TestSocket[] = [];

function grant(account: Account, role: string) {
  const out = spawnSync(process.execPath, [join(projectRoot, 'bin', 'admin.ts'), 'grant', '--email', account.email, '--role', role, '--data-dir', rt.dataDir], {
    encoding: 'utf8',
  });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout;
}

before(async () => {
  rt = await startTestRuntime({
    AUTO_RESTRICT_REPORTERS: '3',
    // reporters' account age is tested in report-restriction.test.ts; here every account is old enough
    REPORTER_MIN_AGE_HOURS: '0',
    RATE_LIMITS: JSON.stringify({ ...JSON.parse(testEnv.RATE_LIMITS), reportReporter: { limit: 6, windowSeconds: 3600 } }),
  });
  doc = rt.db.doc;
  admin = await signUp(rt, { displayName: 'Ada Ops' });
  moderator = await signUp(rt, { displayName: 'Mo Ops' });
  grant(admin, 'admin');
  grant(moderator, 'moderator');
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

function cipher() {
  return {
    clientMessageId: randomUUID(),
    ciphertext: Buffer.from(nacl.randomBytes(48)).toString('base64'),
    nonce: Buffer.from(nacl.randomBytes(24)).toString('base64'),
    senderKeyVersion: 1,
    recipientKeyVersion: 1,
  };
}
const isType = (type: string) => (f: { type: string }) => f.type === type;
const post = (who: Account, path: string, body?: unknown) =>
  request(rt.httpUrl, 'POST', path, { headers: bearer(who.accessToken), ...(body === undefined ? {} : { body }) });
const get = (who: Account, path: string) => request(rt.httpUrl, 'GET', path, { headers: bearer(who.accessToken) });
const sync = (who: Account, after = '') => get(who, `/api/messages/sync?after=${after}`);

/** Sends over a socket and returns the ack. */
async function send(s: TestSocket, to: Account) {
  s.send({ action: 'sendMessage', to: to.userId, ...cipher() });
  return s.next(isType('ack'));
}

/**
 * Runs `meanwhile` once, right after the handlers' DynamoDB client wrote a claim of `decision` on the
 * report (the write before the sanction is carried out), as a request landing just then would.
 * Returns the function that takes the hook out again.
 */
function afterClaim(reportId: string, decision: string, meanwhile: () => Promise<unknown>): () => void {
  const name = `after-claim-${reportId}`;
  let fired = false;
  doc.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      const input = JSON.stringify(args.input);
      if (!fired && 'TransactItems' in args.input && input.includes(reportId) && input.includes(`"${decision}"`)) {
        fired = true;
        await meanwhile();
      }
      return out;
    },
    { step: 'initialize', name },
  );
  return () => doc.middlewareStack.remove(name);
}

/** Asserts that no frame of the kind arrives within a short wait. */
async function silent(s: TestSocket, match: (f: any) => boolean, ms = 400) {
  await assert.rejects(s.next(match, ms), /no matching frame/);
}

describe('blocking', () => {
  test('block and unblock are idempotent; self and unknown users are clear 4xx; the list pages', async () => {
    const [a, b, c] = [await signUp(rt), await signUp(rt), await signUp(rt)];
    const first = await post(a, `/api/users/${b.userId}/block`);
    assert.equal(first.status, 200);
    const again = await post(a, `/api/users/${b.userId}/block`);
    assert.equal(again.json.blockedAt, first.json.blockedAt);
    await post(a, `/api/users/${c.userId}/block`);
    assert.equal((await post(a, `/api/users/${a.userId}/block`)).json.error.code, 'cannot_block_self');
    assert.equal((await post(a, `/api/users/${randomUUID()}/block`)).status, 404);
    assert.equal((await post(a, '/api/users/not-a-uuid/block')).status, 400);
    const p1 = await get(a, '/api/users/blocked?limit=1');
    assert.equal(p1.json.blocked.length, 1);
    const p2 = await get(a, `/api/users/blocked?limit=1&cursor=${p1.json.cursor}`);
    assert.deepEqual([...p1.json.blocked, ...p2.json.blocked].map((x: { userId: string }) => x.userId).sort(), [b.userId, c.userId].sort());
    assert.equal((await get(b, `/api/users/blocked?cursor=${p1.json.cursor}`)).status, 400, "another user's cursor");
    assert.equal((await request(rt.httpUrl, 'DELETE', `/api/users/${b.userId}/block`, { headers: bearer(a.accessToken) })).status, 204);
    assert.equal((await request(rt.httpUrl, 'DELETE', `/api/users/${b.userId}/block`, { headers: bearer(a.accessToken) })).status, 204);
    assert.deepEqual(
      (await get(a, '/api/users/blocked')).json.blocked.map((x: { userId: string }) => x.userId),
      [c.userId],
    );
  });

  test('while A blocks B nothing of B reaches A on any path, nothing of A reaches B, and B cannot tell', async () => {
    const [a, b] = [await signUp(rt, { displayName: 'Blocker' }), await signUp(rt, { displayName: 'Blocked' })];
    const [a1, b1, b2] = [await device(a), await device(b), await device(b)];
    const before = await send(b1, a); // an ordinary conversation first
    await a1.next(isType('message'));
    await b2.next(isType('message'));
    const aSyncBefore = (await sync(a)).json;
    assert.equal((await post(a, `/api/users/${b.userId}/block`)).status, 200);

    // WebSocket send: B sees an ordinary ack and its other device the message; A gets nothing
    const ack = await send(b1, a);
    assert.deepEqual(Object.keys(ack).sort(), Object.keys(before).sort());
    assert.equal((await b2.next(isType('message'))).messageId, ack.messageId);
    await silent(a1, isType('message'));
    // HTTP send: an ordinary 201 for B
    const viaHttp = await post(b, `/api/conversations/${ack.conversationId}/messages`, cipher());
    assert.equal(viaHttp.status, 201);
    // A's sync, history and inbox know nothing new; B's show both sends
    assert.equal((await sync(a, aSyncBefore.cursor)).json.messages.length, 0);
    const aHistory = await get(a, `/api/conversations/${ack.conversationId}/messages`);
    assert.deepEqual(
      aHistory.json.messages.map((m: { messageId: string }) => m.messageId),
      [before.messageId],
    );
    const aInbox = (await get(a, '/api/conversations')).json.conversations.find((x: { conversationId: string }) => x.conversationId === ack.conversationId);
    assert.equal(aInbox.lastMessage.messageId, before.messageId);
    assert.equal(aInbox.unreadCount, 1);
    const bHistory = await get(b, `/api/conversations/${ack.conversationId}/messages`);
    assert.deepEqual(
      bHistory.json.messages.map((m: { messageId: string }) => m.messageId),
      [viaHttp.json.messageId, ack.messageId, before.messageId],
    );

    // typing, both ways
    b1.send({ action: 'typing', to: a.userId });
    await silent(a1, isType('typing'));
    a1.send({ action: 'typing', to: b.userId });
    await silent(b1, isType('typing'));
    // read and delivered receipts from A about B's old message: stored for A, never told to B
    a1.send({ action: 'markRead', conversationId: ack.conversationId, upToMessageId: before.messageId });
    a1.send({ action: 'delivered', conversationId: ack.conversationId, upToMessageId: before.messageId });
    await silent(b1, (f) => f.type === 'read' || f.type === 'delivered');
    assert.equal((await get(a, '/api/conversations')).json.conversations.find((x: any) => x.conversationId === ack.conversationId).unreadCount, 0);
    // key changes of A are not announced to B
    const identity = nacl.sign.keyPair();
    const box = nacl.box.keyPair();
    const key = await request(rt.httpUrl, 'PUT', '/api/users/public-key', {
      headers: bearer(a.accessToken),
      body: {
        identityKey: Buffer.from(identity.publicKey).toString('base64'),
        publicKey: Buffer.from(box.publicKey).toString('base64'),
        signature: Buffer.from(nacl.sign.detached(box.publicKey, identity.secretKey)).toString('base64'),
      },
    });
    assert.equal(key.status, 200);
    await silent(b1, isType('keyChanged'));
    // presence: A going offline and online is not announced to B
    await a1.close();
    const a2 = await device(a);
    await silent(b1, (f) => f.type === 'presence' && f.userId === a.userId);
    // B's typing from before does not leak either; A can still search (B opted in to be found) and list
    const optIn = await request(rt.httpUrl, 'PATCH', '/api/users/me', { headers: bearer(b.accessToken), body: { discoverable: true, password: b.password } });
    assert.equal(optIn.status, 200);
    const found = await get(a, `/api/users/search?q=${encodeURIComponent(b.email)}`);
    assert.deepEqual(
      found.json.users.map((u: { userId: string }) => u.userId),
      [b.userId],
    );
    // A, who knows about the block, is told plainly when trying to write to B
    a2.send({ action: 'sendMessage', to: b.userId, ...cipher() });
    assert.equal((await a2.next(isType('error'))).code, 'user_blocked');
  });

  test('a blocked user opening a new conversation with the blocker sees an ordinary conversation; the blocker sees none', async () => {
    const [a, c] = [await signUp(rt), await signUp(rt)];
    await post(a, `/api/users/${c.userId}/block`);
    const conv = await post(c, '/api/conversations', { userId: a.userId });
    assert.equal(conv.status, 201);
    assert.equal(conv.json.peer.userId, a.userId);
    const cs = await device(c);
    const as = await device(a);
    const ack = await send(cs, a);
    assert.equal(ack.conversationId, conv.json.conversationId);
    await silent(as, isType('message'));
    assert.equal((await get(a, '/api/conversations')).json.conversations.length, 0);
    assert.equal((await get(a, `/api/conversations/${conv.json.conversationId}/messages`)).status, 404);
    assert.equal((await get(c, '/api/conversations')).json.conversations.length, 1);
  });

  test('unblocking restores future delivery only', async () => {
    const [a, b] = [await signUp(rt), await signUp(rt)];
    await post(a, `/api/users/${b.userId}/block`);
    const [as, bs] = [await device(a), await device(b)];
    const during = await send(bs, a);
    await request(rt.httpUrl, 'DELETE', `/api/users/${b.userId}/block`, { headers: bearer(a.accessToken) });
    const afterUnblock = await send(bs, a);
    const got = await as.next(isType('message'));
    assert.equal(got.messageId, afterUnblock.messageId);
    assert.deepEqual(
      (await sync(a)).json.messages.map((m: { messageId: string }) => m.messageId),
      [afterUnblock.messageId],
    );
    const history = await get(a, `/api/conversations/${afterUnblock.conversationId}/messages`);
    assert.deepEqual(
      history.json.messages.map((m: { messageId: string }) => m.messageId),
      [afterUnblock.messageId],
    );
    assert.ok(!history.text.includes(during.messageId));
  });
});

describe('reporting', () => {
  test('bad reports are 4xx and store nothing', async () => {
    const [r, t, other] = [await signUp(rt), await signUp(rt), await signUp(rt)];
    const [rs, os] = [await device(r), await device(other)];
    const mine = await send(rs, t);
    const foreign = await send(os, t); // a message of another conversation
    const cases: [unknown, number, string][] = [
      [{ targetUserId: t.userId, reason: 'rudeness' }, 400, 'validation_failed'],
      [{ targetUserId: t.userId, reason: 'spam', details: 'x'.repeat(1001) }, 400, 'validation_failed'],
      [{ targetUserId: t.userId, reason: 'spam', messageIds: Array.from({ length: 21 }, () => mine.messageId) }, 400, 'validation_failed'],
      [{ targetUserId: t.userId, reason: 'spam', messageIds: [foreign.messageId] }, 400, 'foreign_message'],
      [
        { targetUserId: t.userId, reason: 'spam', messageIds: [mine.messageId], evidence: [{ messageId: foreign.messageId, plaintext: 'x' }] },
        400,
        'evidence_without_message',
      ],
      [{ targetUserId: r.userId, reason: 'spam' }, 400, 'cannot_report_self'],
      [{ targetUserId: randomUUID(), reason: 'spam' }, 404, 'user_not_found'],
      [{ targetUserId: t.userId, reason: 'spam', reporterId: t.userId }, 400, 'validation_failed'],
    ];
    for (const [body, status, code] of cases) {
      const res = await post(r, '/api/reports', body);
      assert.equal(res.status, status, JSON.stringify(body).slice(0, 80));
      assert.equal(res.json.error.code, code);
    }
    assert.deepEqual((await get(r, '/api/reports/mine')).json.reports, []);
    const items = (await doc.send(new ScanCommand({ TableName: process.env.MODERATION_TABLE }))).Items ?? [];
    assert.ok(!items.some((i) => i.reporterId === r.userId), 'nothing stored');
  });

  test('reporting the same messages twice is one report; block: true blocks; reporters never see notes', async () => {
    const [r, t] = [await signUp(rt), await signUp(rt)];
    const rs = await device(r);
    const m1 = await send(rs, t);
    const body = {
      targetUserId: t.userId,
      reason: 'harassment',
      details: 'keeps writing',
      messageIds: [m1.messageId],
      evidence: [{ messageId: m1.messageId, plaintext: 'the text I saw' }],
      block: true,
    };
    const first = await post(r, '/api/reports', body);
    assert.equal(first.status, 201);
    assert.equal(first.json.status, 'open');
    const second = await post(r, '/api/reports', body);
    assert.equal(second.status, 200);
    assert.equal(second.json.reportId, first.json.reportId);
    assert.deepEqual(
      (await get(r, '/api/users/blocked')).json.blocked.map((x: { userId: string }) => x.userId),
      [t.userId],
    );
    const stored = await get(moderator, `/api/admin/reports/${first.json.reportId}`);
    assert.deepEqual(stored.json.report.evidence, body.evidence);
    await post(moderator, `/api/admin/reports/${first.json.reportId}/resolve`, { decision: 'warn', note: 'secret moderator note' });
    const mine = await get(r, '/api/reports/mine');
    assert.equal(mine.json.reports[0].status, 'actioned');
    assert.ok(!mine.text.includes('secret moderator note') && !mine.text.includes(moderator.userId));
    assert.deepEqual((await get(t, '/api/reports/mine')).json.reports, [], 'the target does not see it');
  });

  test('reports are rate-limited per reporter', async () => {
    const r = await signUp(rt);
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await post(r, '/api/reports', { targetUserId: (await signUp(rt)).userId, reason: 'spam' })).status);
    assert.deepEqual(statuses, [201, 201, 201, 201, 201, 201, 429]);
  });
});

describe('moderation', () => {
  test('plain users get 403 on every moderator and admin route; moderators get 403 on admin routes', async () => {
    const u = await signUp(rt);
    const staffRoutes = Object.values(routes).filter((r) => r.kind === 'http' && (r.access === 'moderator' || r.access === 'admin'));
    assert.ok(staffRoutes.length >= 7);
    for (const r of staffRoutes) {
      if (r.kind !== 'http') continue;
      const path = r.path.replace('{reportId}', `r_${'0'.repeat(32)}`).replace('{userId}', u.userId);
      const res = await request(rt.httpUrl, r.method, path, {
        headers: bearer(u.accessToken),
        ...(r.method === 'POST' ? { body: { note: 'x', decision: 'ban' } } : {}),
      });
      assert.equal(res.status, 403, `${r.method} ${r.path}`);
      if (r.access === 'admin') assert.equal((await request(rt.httpUrl, r.method, path, { headers: bearer(moderator.accessToken) })).status, 403);
    }
  });

  test('the queue is oldest open first and filters by reason; opening a report moves it to reviewing', async () => {
    const [r1, r2, t] = [await signUp(rt), await signUp(rt), await signUp(rt)];
    const older = (await post(r1, '/api/reports', { targetUserId: t.userId, reason: 'scam' })).json;
    const newer = (await post(r2, '/api/reports', { targetUserId: t.userId, reason: 'hate' })).json;
    const queue = (await get(moderator, '/api/admin/reports?limit=100')).json.reports.map((x: { reportId: string }) => x.reportId);
    assert.ok(queue.indexOf(older.reportId) < queue.indexOf(newer.reportId));
    const scams = (await get(moderator, '/api/admin/reports?reason=scam&limit=100')).json.reports;
    assert.ok(scams.every((x: { reason: string }) => x.reason === 'scam') && scams.some((x: any) => x.reportId === older.reportId));
    const detail = await get(moderator, `/api/admin/reports/${newer.reportId}`);
    assert.equal(detail.json.report.status, 'reviewing');
    assert.deepEqual(
      detail.json.targetHistory.map((x: { reportId: string }) => x.reportId),
      [older.reportId],
    );
    assert.ok((await get(moderator, '/api/admin/reports?status=reviewing&limit=100')).json.reports.some((x: any) => x.reportId === newer.reportId));
    const dismissed = await post(moderator, `/api/admin/reports/${newer.reportId}/resolve`, { decision: 'dismiss', note: 'not hate' });
    assert.equal(dismissed.json.report.status, 'dismissed');
    assert.equal((await post(moderator, `/api/admin/reports/${newer.reportId}/resolve`, { decision: 'dismiss', note: 'again' })).status, 409);
    assert.equal((await post(moderator, `/api/admin/reports/${older.reportId}/resolve`, { decision: 'suspend', note: 'no hours' })).status, 400);
  });

  test('a ban cuts a live session at once: HTTP refused, refresh refused, the socket closes, login says banned', async () => {
    const t = await signUp(rt);
    const s = await device(t);
    const res = await post(moderator, `/api/admin/users/${t.userId}/ban`, { note: 'spam wave' });
    assert.equal(res.status, 200);
    assert.equal(res.json.status, 'banned');
    assert.equal((await me(rt, t.accessToken)).status, 401);
    assert.equal((await refreshWith(rt, t.refreshToken)).status, 401);
    const closed = await s.closed;
    assert.ok(closed.code >= 1000);
    const login = await logIn(rt, t.email, t.password);
    assert.equal(login.status, 403);
    assert.equal(login.json.error.code, 'account_banned');
    assert.equal((await post(moderator, `/api/admin/users/${admin.userId}/ban`, { note: 'coup' })).json.error.code, 'target_is_staff');
    assert.equal((await post(moderator, `/api/admin/users/${moderator.userId}/ban`, { note: 'self' })).json.error.code, 'cannot_act_on_self');
  });

  test('a suspension cuts the session, says until when, and ends by itself', async () => {
    const t = await signUp(rt);
    const s = await device(t);
    const res = await post(moderator, `/api/admin/users/${t.userId}/suspend`, { durationHours: 2, note: 'cool off' });
    assert.equal(res.json.status, 'suspended');
    const until = Date.parse(res.json.suspendedUntil);
    assert.ok(Math.abs(until - (Date.now() + 2 * 3600_000)) < 60_000);
    assert.equal((await me(rt, t.accessToken)).status, 401);
    await s.closed;
    const login = await logIn(rt, t.email, t.password);
    assert.equal(login.status, 403);
    assert.equal(login.json.error.code, 'account_suspended');
    assert.equal(login.json.error.details.until, res.json.suspendedUntil);
    assert.match(login.json.error.message, /suspended until/);
    // time passes: the suspension is over without anyone doing anything
    rt.clock.advance(2 * 3600_000 + 1000);
    // (the staff's own access tokens expired meanwhile, as they would: they sign in again)
    for (const staff of [admin, moderator]) staff.accessToken = (await logIn(rt, staff.email, staff.password)).json.accessToken;
    const back = await logIn(rt, t.email, t.password);
    assert.equal(back.status, 200);
    assert.equal((await me(rt, back.json.accessToken)).status, 200);
  });

  test('auto-restriction: at the threshold of distinct reporters the target wrote to, and not below, no new conversations until reviewed', async () => {
    const t = await signUp(rt);
    const friend = await signUp(rt);
    assert.equal((await post(t, '/api/conversations', { userId: friend.userId })).status, 201, 'an existing conversation');
    const reporters = [await signUp(rt), await signUp(rt), await signUp(rt)];
    const ts0 = await device(t);
    for (const r of reporters) await send(ts0, r); // reports count only from people the target wrote to
    const stranger = await signUp(rt);
    assert.equal((await post(stranger, '/api/reports', { targetUserId: t.userId, reason: 'spam' })).status, 201, 'a stranger: filed, not counted');
    const reports = [];
    for (const r of reporters.slice(0, 2)) reports.push((await post(r, '/api/reports', { targetUserId: t.userId, reason: 'spam' })).json);
    await post(reporters[0]!, '/api/reports', { targetUserId: t.userId, reason: 'scam', details: 'same reporter again' });
    assert.equal((await post(t, '/api/conversations', { userId: (await signUp(rt)).userId })).status, 201, 'two distinct reporters: not yet');
    reports.push((await post(reporters[2]!, '/api/reports', { targetUserId: t.userId, reason: 'spam' })).json);
    const refused = await post(t, '/api/conversations', { userId: (await signUp(rt)).userId });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.error.code, 'account_restricted');
    assert.equal((await post(t, '/api/conversations', { userId: friend.userId })).status, 200, 'existing conversations go on');
    const ts = await device(t);
    ts.send({ action: 'sendMessage', to: friend.userId, ...cipher() });
    assert.equal((await ts.next(isType('ack'))).type, 'ack');
    await post(moderator, `/api/admin/reports/${reports[0].reportId}/resolve`, { decision: 'dismiss', note: 'reviewed' });
    assert.equal((await post(t, '/api/conversations', { userId: (await signUp(rt)).userId })).status, 201, 'reviewed: restriction lifted');
  });

  test('two moderators deciding one report at once: one decision is recorded and carried out', async () => {
    const [r, t] = [await signUp(rt), await signUp(rt)];
    const report = (await post(r, '/api/reports', { targetUserId: t.userId, reason: 'spam' })).json;
    const [ban, suspend] = await Promise.all([
      post(moderator, `/api/admin/reports/${report.reportId}/resolve`, { decision: 'ban', note: 'one' }),
      post(admin, `/api/admin/reports/${report.reportId}/resolve`, { decision: 'suspend', durationHours: 1, note: 'two' }),
    ]);
    assert.deepEqual([ban.status, suspend.status].sort(), [200, 409]);
    const winner = ban.status === 200 ? 'ban' : 'suspend';
    const stored = (await get(admin, `/api/admin/reports/${report.reportId}`)).json.report;
    assert.equal(stored.decision, winner);
    const login = await logIn(rt, t.email, t.password);
    assert.equal(login.json.error.code, winner === 'ban' ? 'account_banned' : 'account_suspended', 'the recorded decision is the one applied');
  });

  test('moderators cannot see or decide reports about themselves or other staff; a ban is not downgraded', async () => {
    const r = await signUp(rt);
    const aboutMod = (await post(r, '/api/reports', { targetUserId: moderator.userId, reason: 'other' })).json;
    assert.equal((await get(moderator, `/api/admin/reports/${aboutMod.reportId}`)).json.error.code, 'cannot_act_on_self');
    assert.equal((await post(moderator, `/api/admin/reports/${aboutMod.reportId}/resolve`, { decision: 'dismiss', note: 'mine' })).status, 403);
    assert.equal((await get(admin, `/api/admin/reports/${aboutMod.reportId}`)).status, 200, 'an admin handles it');
    const t = await signUp(rt);
    await post(moderator, `/api/admin/users/${t.userId}/ban`, { note: 'serious' });
    const down = await post(moderator, `/api/admin/users/${t.userId}/suspend`, { durationHours: 1, note: 'softer' });
    assert.equal(down.json.error.code, 'already_banned');
  });

  test('the queue never shows moderators reports about themselves; concurrent ban and suspend never end in a downgraded ban', async () => {
    const r = await signUp(rt);
    const aboutMod = (await post(r, '/api/reports', { targetUserId: moderator.userId, reason: 'harassment', details: 'names the reporter' })).json;
    const modQueue = (await get(moderator, '/api/admin/reports?limit=100')).json.reports.map((x: { reportId: string }) => x.reportId);
    assert.ok(!modQueue.includes(aboutMod.reportId));
    const adminQueue = (await get(admin, '/api/admin/reports?limit=100')).json.reports.map((x: { reportId: string }) => x.reportId);
    assert.ok(adminQueue.includes(aboutMod.reportId));
    for (let i = 0; i < 4; i++) {
      const t = await signUp(rt);
      const [ban, suspend] = await Promise.all([
        post(moderator, `/api/admin/users/${t.userId}/ban`, { note: 'race' }),
        post(admin, `/api/admin/users/${t.userId}/suspend`, { durationHours: 1, note: 'race' }),
      ]);
      assert.equal(ban.status, 200);
      const login = await logIn(rt, t.email, t.password);
      assert.equal(login.json.error.code, 'account_banned', `run ${i}: suspend answered ${suspend.status}`);
    }
  });

  test('a decision that cannot be carried out (the target was banned meanwhile) gives the report back to the queue as it was', async () => {
    const [r, t] = [await signUp(rt), await signUp(rt)];
    const body = { targetUserId: t.userId, reason: 'harassment', details: 'again and again' };
    const filed = (await post(r, '/api/reports', body)).json;
    const unhook = afterClaim(filed.reportId, 'suspend', () => post(admin, `/api/admin/users/${t.userId}/ban`, { note: 'spam wave' }));
    const suspend = await post(moderator, `/api/admin/reports/${filed.reportId}/resolve`, { decision: 'suspend', durationHours: 1, note: 'cool off' }).finally(
      unhook,
    );
    assert.equal(suspend.status, 409);
    assert.equal(suspend.json.error.code, 'already_banned');
    assert.equal((await logIn(rt, t.email, t.password)).json.error.code, 'account_banned', 'the ban stands');

    const queued = (await get(moderator, '/api/admin/reports?limit=100')).json.reports.find((x: { reportId: string }) => x.reportId === filed.reportId);
    assert.deepEqual(
      [queued?.status, queued?.updatedAt, 'decision' in queued, 'moderatorId' in queued, 'moderatorNote' in queued],
      ['open', filed.updatedAt, false, false, false],
    );
    const opened = (await get(moderator, `/api/admin/reports/${filed.reportId}`)).json.report;
    assert.deepEqual([opened.status, opened.moderatorId, 'decision' in opened, 'moderatorNote' in opened], ['reviewing', moderator.userId, false, false]);
    const again = await post(r, '/api/reports', body);
    assert.deepEqual([again.status, again.json.reportId], [200, filed.reportId], 'still one report');

    const warn = await post(moderator, `/api/admin/reports/${filed.reportId}/resolve`, { decision: 'warn', note: 'banned already; warned' });
    assert.equal(warn.status, 200);
    assert.deepEqual([warn.json.report.status, warn.json.report.decision], ['actioned', 'warn']);
    const audit = (await get(admin, '/api/admin/audit?limit=100')).json.entries.filter((e: { targetUserId?: string }) => e.targetUserId === t.userId);
    assert.deepEqual(
      audit.map((e: { action: string; actorId: string }) => [e.action, e.actorId]),
      [
        ['resolve_warn', moderator.userId],
        ['review_report', moderator.userId],
        ['ban', admin.userId],
      ],
      'only what was carried out',
    );
    assert.equal((await post(r, '/api/reports', body)).status, 201, 'resolved: the same report can be filed anew');
  });

  test('a duplicate filed while that decision was pending keeps the dedupe; both reports can be resolved', async () => {
    const [r, t] = [await signUp(rt), await signUp(rt)];
    const body = { targetUserId: t.userId, reason: 'spam' };
    const filed = (await post(r, '/api/reports', body)).json;
    let duplicate: Awaited<ReturnType<typeof post>> | undefined;
    const unhook = afterClaim(filed.reportId, 'suspend', async () => {
      duplicate = await post(r, '/api/reports', body); // the key is released while the claim stands
      await post(admin, `/api/admin/users/${t.userId}/ban`, { note: 'spam wave' });
    });
    const suspend = await post(moderator, `/api/admin/reports/${filed.reportId}/resolve`, { decision: 'suspend', durationHours: 1, note: 'x' }).finally(unhook);
    assert.equal(suspend.json.error.code, 'already_banned');
    assert.equal(duplicate?.status, 201);
    const dupId: string = duplicate.json.reportId;

    const open = (await get(moderator, '/api/admin/reports?limit=100')).json.reports.filter((x: { targetUserId: string }) => x.targetUserId === t.userId);
    assert.deepEqual(
      open.map((x: { reportId: string; decision?: string }) => [x.reportId, x.decision]),
      [
        [filed.reportId, undefined],
        [dupId, undefined],
      ],
    );
    assert.equal((await post(r, '/api/reports', body)).json.reportId, dupId, 'duplicates land on the report holding the key');
    assert.equal((await post(moderator, `/api/admin/reports/${filed.reportId}/resolve`, { decision: 'warn', note: 'warned' })).status, 200);
    assert.equal((await post(r, '/api/reports', body)).json.reportId, dupId, 'resolving the other one leaves the key alone');
    assert.equal((await post(moderator, `/api/admin/reports/${dupId}/resolve`, { decision: 'dismiss', note: 'same case' })).status, 200);
    const fresh = await post(r, '/api/reports', body);
    assert.equal(fresh.status, 201);
    assert.ok(![filed.reportId, dupId].includes(fresh.json.reportId));
  });

  test('giving a report back is conditional on the claim: a report changed since is left alone', async () => {
    const reports = reportsTable(rt.db, rt.clock);
    const [r, t] = [await signUp(rt), await signUp(rt)];
    const body = { targetUserId: t.userId, reason: 'scam' };
    const filed = (await post(r, '/api/reports', body)).json;
    const previous = (await reports.getReport(filed.reportId))!;
    const at = (ms: number) => new Date(rt.clock.now() + ms).toISOString();
    const claimed = (await reports.updateReport(previous, ['open'], {
      status: 'actioned',
      decision: 'suspend',
      moderatorId: moderator.userId,
      moderatorNote: 'x',
      updatedAt: at(1),
    }))!;
    // stands in for any later action on the report (no route changes a resolved report today)
    const later = (await reports.updateReport(claimed, ['actioned'], {
      status: 'actioned',
      decision: 'ban',
      moderatorId: admin.userId,
      moderatorNote: 'y',
      updatedAt: at(2),
    }))!;
    assert.equal(await reports.reopenReport(claimed, previous), false);
    assert.deepEqual(await reports.getReport(filed.reportId), later);
    assert.equal((await post(r, '/api/reports', body)).status, 201, 'the key stays released');
    assert.equal(await reports.reopenReport(later, previous), true);
    assert.deepEqual(await reports.getReport(filed.reportId), previous);
  });

  test('a report resolved earlier does not swallow a new report of the same messages', async () => {
    const [r, t] = [await signUp(rt), await signUp(rt)];
    const first = (await post(r, '/api/reports', { targetUserId: t.userId, reason: 'spam' })).json;
    await post(moderator, `/api/admin/reports/${first.reportId}/resolve`, { decision: 'dismiss', note: 'no' });
    const again = await post(r, '/api/reports', { targetUserId: t.userId, reason: 'violence' });
    assert.equal(again.status, 201);
    assert.notEqual(again.json.reportId, first.reportId);
    assert.equal(again.json.status, 'open');
  });

  test('restore lifts a ban; every action is in the append-only audit log, readable by admins only', async () => {
    const t = await signUp(rt);
    await post(moderator, `/api/admin/users/${t.userId}/ban`, { note: 'mistake' });
    const restored = await post(moderator, `/api/admin/users/${t.userId}/restore`, { note: 'appeal granted' });
    assert.equal(restored.json.status, 'active');
    assert.equal((await logIn(rt, t.email, t.password)).status, 200);
    const audit = await get(admin, '/api/admin/audit?limit=100');
    assert.equal(audit.status, 200);
    const actions = audit.json.entries.map((e: { action: string }) => e.action);
    for (const a of ['grant_role', 'ban', 'restore', 'suspend', 'review_report', 'resolve_dismiss', 'resolve_warn', 'auto_restrict'])
      assert.ok(actions.includes(a), a);
    const ban = audit.json.entries.find((e: any) => e.action === 'ban' && e.targetUserId === t.userId);
    assert.equal(ban.actorId, moderator.userId);
    assert.equal(ban.note, 'mistake');
    assert.ok(!Number.isNaN(Date.parse(ban.at)));
    assert.deepEqual(
      audit.json.entries.map((e: { at: string }) => e.at),
      [...audit.json.entries.map((e: { at: string }) => e.at)].sort().reverse(),
      'newest first',
    );
    for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
      assert.equal((await request(rt.httpUrl, method, '/api/admin/audit', { headers: bearer(admin.accessToken) })).status, 404, `${method} audit`);
    }
    assert.equal((await get(moderator, '/api/admin/audit')).status, 403);
  });

  test('tampered cursors are a 400 on every paginated route, never a 5xx', async () => {
    const u = await signUp(rt);
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const evil = [
      enc({ pk: `USER#${u.userId}` }),
      enc({ pk: `USER#${u.userId}`, sk: 12 }),
      enc({ pk: `USER#${u.userId}`, sk: 'x'.repeat(5000) }),
      enc({ gsi1pk: `INBOX#${u.userId}` }),
      enc({ gsi1pk: 'REPORTS#open' }),
      enc({ pk: 'AUDIT' }),
      enc([1, 2]),
      'not-base64!',
      enc('string'),
    ];
    const routesToTry: [Account, string][] = [
      [u, '/api/users/blocked'],
      [u, '/api/reports/mine'],
      [u, '/api/conversations'],
      [moderator, '/api/admin/reports'],
      [admin, '/api/admin/audit'],
    ];
    for (const [who, path] of routesToTry) {
      for (const cursor of evil) {
        const res = await get(who, `${path}?cursor=${encodeURIComponent(cursor)}`);
        assert.equal(res.status, 400, `${path} ${cursor.slice(0, 30)}`);
        assert.ok(['invalid_cursor', 'validation_failed'].includes(res.json.error.code), res.json.error.code);
      }
    }
  });

  test('roles come only from the CLI: no route grants them, and the grant is audited', async () => {
    const u = await signUp(rt);
    const sneaky = await request(rt.httpUrl, 'PATCH', '/api/users/me', { headers: bearer(u.accessToken), body: { displayName: 'X', role: 'admin' } });
    assert.equal(sneaky.status, 400);
    assert.equal((await get(u, '/api/admin/reports')).status, 403);
    const out = grant(u, 'moderator');
    assert.match(out, /is now moderator \(was user\)/);
    assert.equal((await get(u, '/api/admin/reports')).status, 200, 'takes effect at once, same token');
    // the --aws path: explicit table names and the SDK's own credential and endpoint chain (here the
    // standard AWS_ENDPOINT_URL_DYNAMODB pointing at DynamoDB Local stands in for a deployed table)
    const v = await signUp(rt);
    const viaAws = spawnSync(
      process.execPath,
      [
        join(projectRoot, 'bin', 'admin.ts'),
        'grant',
        '--email',
        v.email,
        '--role',
        'moderator',
        '--aws',
        '--users-table',
        process.env.USERS_TABLE!,
        '--moderation-table',
        process.env.MODERATION_TABLE!,
        '--region',
        'us-east-1',
      ],
      {
        encoding: 'utf8',
        env: deployedCliEnv(rt),
      },
    );
    assert.equal(viaAws.status, 0, viaAws.stderr);
    assert.equal((await get(v, '/api/admin/reports')).status, 200);
    const missing = spawnSync(process.execPath, [join(projectRoot, 'bin', 'admin.ts'), 'grant', '--email', v.email, '--role', 'user', '--aws'], {
      encoding: 'utf8',
    });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--users-table and --moderation-table/);
    const bad = spawnSync(process.execPath, [join(projectRoot, 'bin', 'admin.ts'), 'grant', '--email', u.email, '--role', 'god', '--data-dir', rt.dataDir], {
      encoding: 'utf8',
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--role must be/);
  });
});
