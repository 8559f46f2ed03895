// Group use cases over in-memory fakes (core/groups.ts, core/group-send.ts, core/group-signals.ts, and
// group reports in core/moderation.ts): membership rules, last-admin promotion, invitations from
// blocked users silently dropped, members_changed, blocks in sends, typing and receipts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { GroupMessageInput } from '#contract/groups/schemas.ts';
import { sendGroupMessage } from '#core/group-send.ts';
import { groupReceipt, groupTyping } from '#core/group-signals.ts';
import {
  acceptInvitation,
  createGroup,
  declineInvitation,
  getGroup,
  inviteMembers,
  leaveGroup,
  listInvitations,
  removeMember,
  renameGroup,
  setMemberRole,
} from '#core/groups.ts';
import { createReport } from '#core/moderation.ts';
import type { KeyRecord, UserRecord } from '#core/ports.ts';
import {
  addUser,
  fakeWorld,
  groupChangeDeps,
  groupInviteDeps,
  groupReadDeps,
  groupSendDeps,
  groupSignalDeps,
  groupViewDeps,
  rejectsWith,
  reportingDeps,
  type World,
} from '../support/fakes.ts';

const b64 = (bytes: number, fill = 7) => Buffer.alloc(bytes, fill).toString('base64');

function publishKey(w: World, userId: string, version = 1) {
  w.publicKeys.current.set(userId, { userId, version, publicKey: b64(32), identityKey: b64(32), signature: b64(64) } as unknown as KeyRecord);
}

/** A group message whose keys cover `members` at these versions (default 1). */
function sealed(members: readonly string[], versions: Record<string, number> = {}, clientMessageId: string = randomUUID()): GroupMessageInput {
  return {
    clientMessageId,
    ciphertext: b64(40),
    nonce: b64(24),
    senderKeyVersion: 1,
    keys: Object.fromEntries(members.map((u) => [u, { wrappedKey: b64(48), nonce: b64(24), keyVersion: versions[u] ?? 1 }])),
  };
}

/** Users with published keys and a group of them: the first is the admin, the rest accepted in order. */
async function groupOf(w: World, n: number, name = 'Crew') {
  const users: UserRecord[] = [];
  for (let i = 0; i < n; i++) {
    const u = await addUser(w);
    publishKey(w, u.userId);
    users.push(u);
  }
  const ids = users.map((u) => u.userId);
  const { conversationId: g } = await createGroup(groupInviteDeps(w), ids[0]!, name, ids.slice(1));
  for (const id of ids.slice(1)) {
    w.clock.advance(1000);
    await acceptInvitation(groupChangeDeps(w), id, g);
  }
  return { g, ids, users };
}

const send = async (w: World, from: string, g: string, input: GroupMessageInput) => {
  const { delivery, ...rest } = await sendGroupMessage(groupSendDeps(w), from, g, input);
  await delivery;
  return rest;
};

const typesFor = (w: World, userId: string) => w.connections.framesFor(userId).map((f) => (f as { type: string }).type);

describe('membership rules', () => {
  test('the creator is the only admin; invitees join only by accepting; "A added B" has the inviter as actor', async () => {
    const w = fakeWorld();
    const [a, b, c] = [await addUser(w), await addUser(w), await addUser(w)];
    const { conversationId: g } = await createGroup(groupInviteDeps(w), a.userId, 'Trip', [b.userId, c.userId, b.userId, a.userId, randomUUID()]);
    assert.match(g, /^gr_[0-9a-f]{32}$/);
    assert.deepEqual(
      (await w.groups.roster(g)).members.map((m) => [m.userId, m.role]),
      [[a.userId, 'admin']],
    );
    // unknown ids, duplicates and the inviter are skipped: B and C are invited once each
    assert.deepEqual(
      (await listInvitations(groupReadDeps(w), b.userId, 10, undefined)).invitations.map((i) => [i.conversationId, i.inviterId, i.name]),
      [[g, a.userId, 'Trip']],
    );
    assert.equal(w.groups.invitations.size, 2);
    await rejectsWith(getGroup(groupViewDeps(w), b.userId, g), 404, 'conversation_not_found');
    const sb = w.connections.open(b.userId, 's');
    await acceptInvitation(groupChangeDeps(w), b.userId, g);
    await declineInvitation(groupReadDeps(w), c.userId, g);
    await rejectsWith(acceptInvitation(groupChangeDeps(w), c.userId, g), 404, 'invitation_not_found');
    const view = await getGroup(groupViewDeps(w), b.userId, g);
    assert.deepEqual([view.role, view.memberCount], ['member', 2]);
    const joined = w.groups.copiesOf(g, b.userId).find((m) => m.event?.type === 'joined');
    assert.deepEqual([joined?.senderId, joined?.event?.userId], [a.userId, b.userId]);
    assert.deepEqual(w.connections.framesOn(sb), [{ type: 'groupUpdated', conversationId: g, event: 'joined', by: a.userId, userId: b.userId }]);
  });

  test('strangers get 404 and members who are not admins 403 on admin actions', async () => {
    const w = fakeWorld();
    const { g, ids } = await groupOf(w, 3);
    const [, b, c] = ids as [string, string, string];
    const x = (await addUser(w)).userId;
    await rejectsWith(getGroup(groupViewDeps(w), x, g), 404, 'conversation_not_found');
    await rejectsWith(renameGroup(groupChangeDeps(w), x, g, 'Mine'), 404, 'conversation_not_found');
    await rejectsWith(leaveGroup(groupChangeDeps(w), x, g), 404, 'conversation_not_found');
    await rejectsWith(renameGroup(groupChangeDeps(w), b, g, 'Mine'), 403, 'not_group_admin');
    await rejectsWith(inviteMembers(groupInviteDeps(w), b, g, [x]), 403, 'not_group_admin');
    await rejectsWith(removeMember(groupChangeDeps(w), b, g, c), 403, 'not_group_admin');
    await rejectsWith(setMemberRole(groupChangeDeps(w), b, g, b, 'admin'), 403, 'not_group_admin');
    await rejectsWith(removeMember(groupChangeDeps(w), ids[0]!, g, ids[0]!), 400, 'use_leave');
    await rejectsWith(removeMember(groupChangeDeps(w), ids[0]!, g, x), 404, 'member_not_found');
    assert.equal((await w.groups.roster(g)).meta?.name, 'Crew', 'nothing changed');
    assert.equal(w.groups.invitations.size, 0);
  });

  test('removing an invitee withdraws the invitation; a removed member is told and leaves the history', async () => {
    const w = fakeWorld();
    const { g, ids } = await groupOf(w, 3);
    const [a, b, c] = ids as [string, string, string];
    const x = (await addUser(w)).userId;
    await inviteMembers(groupInviteDeps(w), a, g, [x]);
    await removeMember(groupChangeDeps(w), a, g, x);
    assert.equal(await w.groups.getInvitation(g, x), undefined);
    const sc = w.connections.open(c, 's');
    await removeMember(groupChangeDeps(w), a, g, c);
    assert.deepEqual((await w.groups.roster(g)).members.map((m) => m.userId).sort(), [a, b].sort());
    assert.equal((await w.groups.roster(g)).meta?.memberCount, 2);
    assert.deepEqual(w.connections.framesOn(sc), [{ type: 'groupUpdated', conversationId: g, event: 'removed', by: a, userId: c }]);
    assert.ok(!w.groups.copiesOf(g, c).some((m) => m.event?.type === 'removed'), 'the removed member gets the push, not the history entry');
    assert.ok(w.groups.copiesOf(g, b).some((m) => m.event?.type === 'removed' && m.event.userId === c));
  });

  test('the member limit and the per-user group limit hold', async () => {
    const w = fakeWorld({ env: { GROUP_MAX_MEMBERS: '2', GROUPS_PER_USER_MAX: '1' } });
    const [a, b, c] = [await addUser(w), await addUser(w), await addUser(w)];
    const { conversationId: g } = await createGroup(groupInviteDeps(w), a.userId, 'Two', [b.userId, c.userId]);
    await acceptInvitation(groupChangeDeps(w), b.userId, g);
    await rejectsWith(acceptInvitation(groupChangeDeps(w), c.userId, g), 409, 'group_full');
    await rejectsWith(createGroup(groupInviteDeps(w), a.userId, 'Another', []), 409, 'too_many_groups');
  });

  test('a user under auto-restriction cannot create groups', async () => {
    const w = fakeWorld();
    const a = await addUser(w, { restrictedAt: new Date(w.clock.now()).toISOString() });
    await rejectsWith(createGroup(groupInviteDeps(w), a.userId, 'Spam', []), 403, 'account_restricted');
    assert.equal(w.groups.metas.size, 0);
  });
});

describe('invitations and blocks', () => {
  test('an invitation from someone the invitee blocks is silently dropped; the inviter cannot tell', async () => {
    const w = fakeWorld();
    const [spammer, victim, friend] = [await addUser(w), await addUser(w), await addUser(w)];
    await w.blocks.block(victim.userId, spammer.userId);
    const created = await createGroup(groupInviteDeps(w), spammer.userId, 'Deals', [victim.userId, friend.userId]);
    assert.deepEqual((await listInvitations(groupReadDeps(w), victim.userId, 10, undefined)).invitations, []);
    assert.equal((await listInvitations(groupReadDeps(w), friend.userId, 10, undefined)).invitations.length, 1);
    // inviting again later answers the same (no error), and still writes nothing for the victim
    assert.equal(await inviteMembers(groupInviteDeps(w), spammer.userId, created.conversationId, [victim.userId]), undefined);
    assert.equal(await w.groups.getInvitation(created.conversationId, victim.userId), undefined);
    await rejectsWith(acceptInvitation(groupChangeDeps(w), victim.userId, created.conversationId), 404, 'invitation_not_found');
  });

  test('blocking the other way round (the inviter blocks the invitee) does not stop the invitation', async () => {
    const w = fakeWorld();
    const [a, b] = [await addUser(w), await addUser(w)];
    await w.blocks.block(a.userId, b.userId);
    const { conversationId: g } = await createGroup(groupInviteDeps(w), a.userId, 'Odd', [b.userId]);
    assert.ok(await w.groups.getInvitation(g, b.userId));
  });
});

describe('roles and the last admin', () => {
  test('the last admin leaving hands the group to the longest-standing member, in the same change', async () => {
    const w = fakeWorld();
    const { g, ids } = await groupOf(w, 4);
    const [a, b, c, d] = ids as [string, string, string, string];
    await leaveGroup(groupChangeDeps(w), a, g);
    const { meta, members } = await w.groups.roster(g);
    assert.deepEqual(
      members.map((m) => [m.userId, m.role]).sort(),
      [
        [b, 'admin'],
        [c, 'member'],
        [d, 'member'],
      ].sort(),
    );
    assert.deepEqual([meta?.memberCount, meta?.adminCount], [3, 1]);
    const events = w.groups
      .copiesOf(g, c)
      .filter((m) => m.event && m.event.type !== 'joined')
      .map((m) => [m.event!.type, m.event!.userId]);
    assert.deepEqual(events, [
      ['left', a],
      ['roleChanged', b],
    ]);
  });

  test('joinedAt ties go to the smallest user id; another admin present means no promotion', async () => {
    const w = fakeWorld();
    const [a, b, c] = [await addUser(w), await addUser(w), await addUser(w)];
    const { conversationId: g } = await createGroup(groupInviteDeps(w), a.userId, 'Tie', [b.userId, c.userId]);
    await acceptInvitation(groupChangeDeps(w), b.userId, g);
    await acceptInvitation(groupChangeDeps(w), c.userId, g); // same instant: the clock did not move
    await leaveGroup(groupChangeDeps(w), a.userId, g);
    const heir = [b.userId, c.userId].sort()[0]!;
    assert.equal((await w.groups.getMember(g, heir))?.role, 'admin');
    const other = heir === b.userId ? c.userId : b.userId;
    await setMemberRole(groupChangeDeps(w), heir, g, other, 'admin');
    await leaveGroup(groupChangeDeps(w), heir, g);
    assert.deepEqual(
      (await w.groups.roster(g)).members.map((m) => [m.userId, m.role]),
      [[other, 'admin']],
    );
    assert.equal((await w.groups.roster(g)).meta?.adminCount, 1);
  });

  test('the last admin cannot step down; a second admin can be made and demoted', async () => {
    const w = fakeWorld();
    const { g, ids } = await groupOf(w, 2);
    const [a, b] = ids as [string, string];
    await rejectsWith(setMemberRole(groupChangeDeps(w), a, g, a, 'member'), 409, 'last_admin');
    await setMemberRole(groupChangeDeps(w), a, g, b, 'admin');
    assert.equal((await w.groups.roster(g)).meta?.adminCount, 2);
    await setMemberRole(groupChangeDeps(w), b, g, a, 'member');
    assert.deepEqual([(await w.groups.getMember(g, a))?.role, (await w.groups.roster(g)).meta?.adminCount], ['member', 1]);
    await rejectsWith(setMemberRole(groupChangeDeps(w), b, g, b, 'member'), 409, 'last_admin');
  });

  test('a change that loses a race re-reads and retries; one that keeps losing is a 503 busy', async () => {
    const w = fakeWorld();
    const { g, ids } = await groupOf(w, 3);
    const [a, , c] = ids as [string, string, string];
    const real = w.groups.removeMember.bind(w.groups);
    let losses = 1;
    w.groups.removeMember = async (...args) => (losses-- > 0 ? false : real(...args));
    await removeMember(groupChangeDeps(w), a, g, c);
    assert.equal(await w.groups.getMember(g, c), undefined);
    w.groups.removeMember = async () => false;
    await rejectsWith(leaveGroup(groupChangeDeps(w), a, g), 503, 'busy');
  });
});

describe('group send', () => {
  test('each member gets its own copy with only its own wrapped key; the sender gets the ack', async () => {
    const w = fakeWorld();
    const { g, ids } = await groupOf(w, 3);
    const [a, b, c] = ids as [string, string, string];
    const [sa, sb] = [w.connections.open(a, 's'), w.connections.open(b, 's')];
    const input = sealed(ids);
    const r = await sendGroupMessage(groupSendDeps(w), a, g, input, { senderConnectionId: sa });
    await r.delivery;
    assert.equal(r.duplicate, false);
    assert.equal(r.ack.conversationId, g);
    for (const u of ids) {
      const copy = w.groups.copiesOf(g, u).find((m) => m.messageId === r.ack.messageId);
      assert.deepEqual(copy?.key, input.keys[u], `${u} holds its own key only`);
    }
    assert.deepEqual([...w.groups.queued.keys()].sort(), [b, c].sort(), 'queue entries for the others, not the sender');
    const pushed = w.connections.framesOn(sb) as { type: string; key?: unknown; messageId?: string }[];
    assert.deepEqual(
      pushed.filter((f) => f.type === 'message').map((f) => [f.messageId, f.key]),
      [[r.ack.messageId, input.keys[b]]],
    );
    assert.ok(!w.connections.framesOn(sa).some((f) => (f as { type: string }).type === 'message'), 'the sending socket gets no echo');
    assert.equal(w.metrics.total('MessagesSent'), 1);
  });

  test('members_changed: a missing member, a stranger, a stale version; members without a key are not required', async () => {
    const w = fakeWorld();
    const { g, ids } = await groupOf(w, 3);
    const [a, b, c] = ids as [string, string, string];
    const x = (await addUser(w)).userId;
    publishKey(w, x);
    publishKey(w, c, 2);
    for (const input of [sealed([a, b], { [c]: 2 }), sealed([a, b, c, x], { [c]: 2 }), sealed([a, b, c])]) {
      const e = await rejectsWith(send(w, a, g, input), 409, 'members_changed');
      assert.deepEqual(e.details, { [a]: 1, [b]: 1, [c]: 2 });
    }
    assert.equal(w.groups.cmids.size, 0, 'nothing stored');
    // a member who never published a key is neither required nor given a copy
    w.publicKeys.current.delete(b);
    const r = await send(w, a, g, sealed([a, c], { [c]: 2 }));
    assert.ok(!w.groups.copiesOf(g, b).some((m) => m.messageId === r.ack.messageId));
    // a sender without a key cannot send at all
    w.publicKeys.current.delete(a);
    await rejectsWith(send(w, a, g, sealed([c], { [c]: 2 })), 409, 'sender_key_missing');
  });

  test('a member who blocks the sender gets no copy, queue entry or push; the sender must still wrap for them and cannot tell', async () => {
    const w = fakeWorld();
    const { g, ids } = await groupOf(w, 3);
    const [a, b, c] = ids as [string, string, string];
    await w.blocks.block(c, a);
    const sc = w.connections.open(c, 's');
    await rejectsWith(send(w, a, g, sealed([a, b])), 409, 'members_changed');
    const r = await send(w, a, g, sealed(ids));
    assert.equal(r.duplicate, false);
    assert.ok(w.groups.copiesOf(g, b).some((m) => m.messageId === r.ack.messageId));
    assert.ok(!w.groups.copiesOf(g, c).some((m) => m.messageId === r.ack.messageId));
    assert.ok(!(w.groups.queued.get(c) ?? []).some((m) => m.messageId === r.ack.messageId));
    assert.ok(!w.connections.framesOn(sc).some((f) => (f as { type: string }).type === 'message'));
    // a block stops what reaches the blocker; the blocker's own messages still reach the group
    const back = await send(w, c, g, sealed(ids));
    assert.ok(
      w.groups.copiesOf(g, a).some((m) => m.messageId === back.ack.messageId),
      'C may still write to the group A is in',
    );
  });

  test('suspended and banned members cannot send; strangers and removed members get 404', async () => {
    const w = fakeWorld();
    const { g, ids } = await groupOf(w, 4);
    const [a, b, c, d] = ids as [string, string, string, string];
    await w.users.update(b, { status: 'suspended', suspendedUntil: w.clock.now() + 3600_000 });
    await w.users.update(c, { status: 'banned' });
    await rejectsWith(send(w, b, g, sealed(ids)), 403, 'account_suspended');
    await rejectsWith(send(w, c, g, sealed(ids)), 403, 'account_banned');
    await removeMember(groupChangeDeps(w), a, g, d);
    await rejectsWith(send(w, d, g, sealed([a, b, c])), 404, 'conversation_not_found');
    assert.equal(w.groups.cmids.size, 0);
    // a suspension that has run out no longer stops anyone
    w.clock.advance(3600_000 + 1);
    assert.equal((await send(w, b, g, sealed([a, b, c]))).duplicate, false);
  });

  test('a retry with the same clientMessageId acks the first message and pushes nothing new; it completes a crashed first attempt', async () => {
    const w = fakeWorld();
    const { g, ids } = await groupOf(w, 2);
    const [a, b] = ids as [string, string];
    const sb = w.connections.open(b, 's');
    const input = sealed(ids);
    const first = await send(w, a, g, input);
    const again = await send(w, a, g, input);
    assert.deepEqual([again.duplicate, again.ack.messageId], [true, first.ack.messageId]);
    assert.equal(w.connections.framesOn(sb).filter((f) => (f as { type: string }).type === 'message').length, 1);
    w.groups.crashAfterRecord = true;
    const crashing = sealed(ids);
    await assert.rejects(send(w, a, g, crashing), /crashed/);
    assert.ok(!w.groups.copiesOf(g, b).some((m) => m.clientMessageId === crashing.clientMessageId));
    const repaired = await send(w, a, g, crashing);
    assert.equal(repaired.duplicate, true);
    assert.ok(w.groups.copiesOf(g, b).some((m) => m.messageId === repaired.ack.messageId));
    assert.equal(w.groups.queueIds.get(b)?.at(-1), repaired.ack.messageId, 'within the settle horizon: under its own id');
    // past the settle horizon a missing entry is queued under a fresh id, once
    w.groups.crashAfterRecord = true;
    const late = sealed(ids);
    await assert.rejects(send(w, a, g, late), /crashed/);
    w.clock.advance(31_000);
    const lateAck = (await send(w, a, g, late)).ack;
    const fresh = w.groups.queueIds.get(b)!.at(-1)!;
    assert.notEqual(fresh, lateAck.messageId);
    assert.ok(fresh > lateAck.messageId);
    await send(w, a, g, late);
    assert.equal(w.groups.queued.get(b)!.filter((m) => m.messageId === lateAck.messageId).length, 1, 'claimed once');
  });
});

describe('typing and receipts in groups', () => {
  test('typing reaches the other current members, never across a block either way; strangers get 404', async () => {
    const w = fakeWorld();
    const { g, ids } = await groupOf(w, 4);
    const [a, b, c, d] = ids as [string, string, string, string];
    for (const u of ids) w.connections.open(u, 's');
    await w.blocks.block(c, a); // C blocks A
    await removeMember(groupChangeDeps(w), a, g, d);
    const before = w.connections.delivered.length;
    await groupTyping(groupSignalDeps(w), a, g);
    const typing = w.connections.delivered.slice(before).filter((x) => (x.frame as { type: string }).type === 'typing');
    assert.deepEqual(
      typing.map((x) => x.userId),
      [b],
      'not A itself, not C (blocks A), not D (removed)',
    );
    await groupTyping(groupSignalDeps(w), c, g);
    assert.ok(!typesFor(w, a).includes('typing'), 'A hears nothing from C, whom it is blocked by');
    await rejectsWith(groupTyping(groupSignalDeps(w), d, g), 404, 'conversation_not_found');
  });

  test('receipts are per member, forward only, up to a message the member holds a copy of', async () => {
    const w = fakeWorld();
    const { g, ids } = await groupOf(w, 3);
    const [a, b, c] = ids as [string, string, string];
    for (const u of ids) w.connections.open(u, 's');
    await w.blocks.block(c, a);
    const m1 = await send(w, a, g, sealed(ids));
    const m2 = await send(w, b, g, sealed(ids));
    await groupReceipt(groupSignalDeps(w), 'read', b, g, m2.ack.messageId);
    assert.deepEqual(
      w.connections.framesFor(a).filter((f) => (f as { type: string }).type === 'read'),
      [{ type: 'read', conversationId: g, by: b, upToMessageId: m2.ack.messageId }],
    );
    assert.equal((await w.conversations.readPositions([g], b)).get(g), m2.ack.messageId);
    // C has no copy of A's message
    await rejectsWith(groupReceipt(groupSignalDeps(w), 'delivered', c, g, m1.ack.messageId), 404, 'message_not_found');
    // C's receipt reaches B, never A
    await groupReceipt(groupSignalDeps(w), 'delivered', c, g, m2.ack.messageId);
    assert.ok(typesFor(w, b).includes('delivered'));
    assert.ok(!typesFor(w, a).includes('delivered'));
    // A's receipt never reaches C
    await groupReceipt(groupSignalDeps(w), 'read', a, g, m2.ack.messageId);
    assert.ok(!w.connections.framesFor(c).some((f) => (f as { type: string; by?: string }).type === 'read' && (f as { by: string }).by === a));
    // moving back tells no one
    const count = w.connections.delivered.length;
    await groupReceipt(groupSignalDeps(w), 'read', b, g, m1.ack.messageId);
    assert.equal(w.connections.delivered.length, count);
    // a stranger, and another group's message
    const x = (await addUser(w)).userId;
    await rejectsWith(groupReceipt(groupSignalDeps(w), 'read', x, g, m2.ack.messageId), 404, 'conversation_not_found');
    const other = await groupOf(w, 2);
    await rejectsWith(groupReceipt(groupSignalDeps(w), 'read', other.ids[0]!, other.g, m2.ack.messageId), 404, 'message_not_found');
  });
});

describe('reporting group messages', () => {
  test("a member reports the target's message with the group's context; others and other messages are refused", async () => {
    const w = fakeWorld({ env: { REPORTER_MIN_AGE_HOURS: '0' } });
    const { g, ids } = await groupOf(w, 3, 'Market');
    const [a, b, c] = ids as [string, string, string];
    await w.blocks.block(c, a);
    const bad = await send(w, a, g, sealed(ids));
    const mine = await send(w, b, g, sealed(ids));
    const { report, created } = await createReport(reportingDeps(w), b, {
      targetUserId: a,
      conversationId: g,
      reason: 'scam',
      messageIds: [bad.ack.messageId],
      evidence: [{ messageId: bad.ack.messageId, plaintext: 'pills' }],
    });
    assert.equal(created, true);
    assert.deepEqual(report.group, { conversationId: g, name: 'Market', memberCount: 3 });
    assert.deepEqual((await w.moderation.getReport(report.reportId))?.group, { conversationId: g, name: 'Market', memberCount: 3 });
    const x = (await addUser(w)).userId;
    await rejectsWith(createReport(reportingDeps(w), x, { targetUserId: a, conversationId: g, reason: 'spam' }), 404, 'conversation_not_found');
    await rejectsWith(
      createReport(reportingDeps(w), c, { targetUserId: a, conversationId: g, reason: 'spam', messageIds: [bad.ack.messageId] }),
      400,
      'foreign_message',
    );
    await rejectsWith(
      createReport(reportingDeps(w), c, { targetUserId: a, conversationId: g, reason: 'spam', messageIds: [mine.ack.messageId] }),
      400,
      'foreign_message',
    );
    const system = w.groups.copiesOf(g, c).find((m) => m.event)!;
    await rejectsWith(
      createReport(reportingDeps(w), c, { targetUserId: system.senderId, conversationId: g, reason: 'spam', messageIds: [system.messageId] }),
      400,
      'foreign_message',
    );
  });
});
