// Blocks, reports and moderator work over in-memory ports: what reporters, targets and moderators
// see, auto-restriction at the threshold, sanctions that end sessions at once, and decisions that
// are made exactly once even when two moderators act together.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Role } from '#contract/common.ts';
import type { ReportInput } from '#contract/moderation/create-report.ts';
import { authenticate } from '#core/authn.ts';
import { openConversation, sendMessage } from '#core/conversations.ts';
import { directConversationId } from '#core/message-rules.ts';
import {
  auditLog,
  blockUser,
  createReport,
  listBlocked,
  listMyReports,
  reportDetails,
  reportQueue,
  resolveReport,
  restore,
  sanction,
  unblockUser,
  type SanctionDeps,
} from '#core/moderation.ts';
import {
  addUser,
  authDeps,
  blockingDeps,
  fakeWorld,
  message,
  moderationDeps,
  openingDeps,
  rejectsWith,
  reportingDeps,
  sanctionDeps,
  sendDeps,
  signIn,
  type World,
} from '../support/fakes.ts';

const report = (targetUserId: string, extra: Partial<ReportInput> = {}): ReportInput => ({ targetUserId, reason: 'harassment', ...extra });

async function cast(w: World) {
  const user = async (role: Role = 'user') => {
    const u = await addUser(w, { role });
    return { userId: u.userId, role };
  };
  return {
    ada: await user(),
    bob: await user(),
    cy: await user(),
    dee: await user(),
    mod: await user('moderator'),
    mod2: await user('moderator'),
    admin: await user('admin'),
  };
}

describe('blocking', () => {
  test('nobody blocks themselves or an unknown user; blocking again keeps the first time; both sides see the relation', async () => {
    const w = fakeWorld();
    const { ada, bob } = await cast(w);
    await rejectsWith(blockUser(blockingDeps(w), ada.userId, ada.userId), 400, 'cannot_block_self');
    await rejectsWith(blockUser(blockingDeps(w), ada.userId, '00000000-0000-4000-8000-000000000000'), 404, 'user_not_found');
    const first = await blockUser(blockingDeps(w), ada.userId, bob.userId);
    w.clock.advance(60_000);
    assert.deepEqual(await blockUser(blockingDeps(w), ada.userId, bob.userId), first);
    assert.deepEqual([...(await w.blocks.blockRelations(bob.userId))], [ada.userId]);
    const listed = await listBlocked(blockingDeps(w), ada.userId, 10, undefined);
    assert.deepEqual(listed, { blocked: [{ userId: bob.userId, blockedAt: first.blockedAt, displayName: (await w.users.get(bob.userId))!.displayName }] });
    await unblockUser(blockingDeps(w), ada.userId, bob.userId);
    assert.equal((await w.blocks.blockRelations(bob.userId)).size, 0);
    assert.deepEqual(await w.blocks.blockPair(ada.userId, bob.userId), [false, false]);
  });
});

describe('reporting', () => {
  test('nobody reports themselves', async () => {
    const w = fakeWorld();
    const { ada } = await cast(w);
    await rejectsWith(createReport(reportingDeps(w), ada.userId, report(ada.userId)), 400, 'cannot_report_self');
    assert.equal(w.moderation.reports.size, 0);
  });

  test('the same report while it is open is one report; after a decision it can be filed again', async () => {
    const w = fakeWorld();
    const { ada, bob, mod } = await cast(w);
    const first = await createReport(reportingDeps(w), ada.userId, report(bob.userId));
    w.clock.advance(1000);
    const again = await createReport(reportingDeps(w), ada.userId, report(bob.userId, { reason: 'spam' }));
    assert.deepEqual([first.created, again.created, again.report.reportId, again.report.reason], [true, false, first.report.reportId, 'harassment']);
    assert.equal(w.moderation.reports.size, 1);

    await resolveReport(sanctionDeps(w), mod, first.report.reportId, { decision: 'dismiss', note: 'not harassment' });
    const later = await createReport(reportingDeps(w), ada.userId, report(bob.userId));
    assert.equal(later.created, true);
    assert.notEqual(later.report.reportId, first.report.reportId);
  });

  test('only messages of the reporter’s own conversation with the target, visible to the reporter, can be cited', async () => {
    const w = fakeWorld();
    const { ada, bob, cy } = await cast(w);
    const theirs = await sendMessage(sendDeps(w), bob.userId, cy.userId, message('other-conv'));
    const ours = await sendMessage(sendDeps(w), bob.userId, ada.userId, message('our-conv01'));
    await w.blocks.block(bob.userId, ada.userId);
    const hiddenFromBob = await sendMessage(sendDeps(w), ada.userId, bob.userId, message('hidden-001'));
    await w.blocks.unblock(bob.userId, ada.userId);
    const foreign = await rejectsWith(
      createReport(reportingDeps(w), ada.userId, report(bob.userId, { messageIds: [ours.ack.messageId, theirs.ack.messageId] })),
      400,
      'foreign_message',
    );
    assert.deepEqual(
      (foreign.details as unknown as { message: string }[]).map((d) => d.message),
      [`not in your conversation: ${theirs.ack.messageId}`],
    );
    await rejectsWith(createReport(reportingDeps(w), bob.userId, report(ada.userId, { messageIds: [hiddenFromBob.ack.messageId] })), 400, 'foreign_message');
    await rejectsWith(
      createReport(reportingDeps(w), ada.userId, report(bob.userId, { evidence: [{ messageId: ours.ack.messageId, plaintext: 'hi' }] })),
      400,
      'evidence_without_message',
    );
    const ok = await createReport(
      reportingDeps(w),
      ada.userId,
      report(bob.userId, { messageIds: [ours.ack.messageId], evidence: [{ messageId: ours.ack.messageId, plaintext: 'you again' }], block: true }),
    );
    assert.deepEqual(ok.report.messageIds, [ours.ack.messageId]);
    assert.deepEqual(await w.blocks.blockPair(ada.userId, bob.userId), [true, false]);
  });

  test('a reporter sees the status of their reports, never the moderator or the note', async () => {
    const w = fakeWorld();
    const { ada, bob, mod } = await cast(w);
    const filed = await createReport(reportingDeps(w), ada.userId, report(bob.userId));
    w.clock.advance(1000);
    await resolveReport(sanctionDeps(w), mod, filed.report.reportId, { decision: 'warn', note: 'internal: first warning' });
    const mine = await listMyReports(moderationDeps(w), ada.userId, 10, undefined);
    assert.deepEqual(mine, {
      reports: [
        {
          reportId: filed.report.reportId,
          targetUserId: bob.userId,
          reason: 'harassment',
          status: 'actioned',
          createdAt: filed.report.createdAt,
          updatedAt: new Date(w.clock.now()).toISOString(),
        },
      ],
    });
  });
});

describe('auto-restriction', () => {
  let sent = 0;
  /** The target writes to each of them (so their reports can count). */
  async function writesTo(w: World, target: string, ...recipients: string[]) {
    for (const r of recipients) await sendMessage(sendDeps(w), target, r, message(`written-${++sent}`));
  }
  /** Every account made so far becomes old enough for its reports to count. */
  const ageAccounts = (w: World) => w.clock.advance(w.config.moderation.reporterMinAgeHours * 3600_000);
  const restrictedAt = async (w: World, userId: string) => (await w.users.get(userId))?.restrictedAt;

  test('the third distinct reporter who heard from the target restricts it from new conversations; two do not', async () => {
    const w = fakeWorld();
    const { ada, bob, cy, dee } = await cast(w);
    await writesTo(w, dee.userId, ada.userId, bob.userId, cy.userId);
    ageAccounts(w);
    await createReport(reportingDeps(w), ada.userId, report(dee.userId));
    await createReport(reportingDeps(w), ada.userId, report(dee.userId, { reason: 'spam', details: 'again' }));
    const twice = await createReport(reportingDeps(w), bob.userId, report(dee.userId));
    assert.equal(twice.created, true);
    assert.equal(await restrictedAt(w, dee.userId), undefined);
    await openConversation(openingDeps(w), dee.userId, (await addUser(w)).userId);

    w.clock.advance(1000);
    await createReport(reportingDeps(w), cy.userId, report(dee.userId));
    assert.equal(await restrictedAt(w, dee.userId), new Date(w.clock.now()).toISOString());
    assert.deepEqual(
      w.moderation.audit.map((a) => [a.actorId, a.action, a.targetUserId, a.details]),
      [['system', 'auto_restrict', dee.userId, { reporters: 3, windowHours: 24 }]],
    );
    await rejectsWith(openConversation(openingDeps(w), dee.userId, (await addUser(w)).userId), 403, 'account_restricted');
  });

  test('reports from strangers never restrict anyone, however many (old accounts, no message from the target)', async () => {
    const w = fakeWorld();
    const { dee } = await cast(w);
    const strangers = await Promise.all(Array.from({ length: 10 }, () => addUser(w)));
    // some even opened a conversation with the target, or wrote to it: the target never answered
    await openConversation(openingDeps(w), strangers[0]!.userId, dee.userId);
    await sendMessage(sendDeps(w), strangers[1]!.userId, dee.userId, message('unanswered-1'));
    ageAccounts(w);
    for (const s of strangers) {
      const filed = await createReport(reportingDeps(w), s.userId, report(dee.userId, { reason: 'spam' }));
      assert.equal(filed.created, true, 'every report still reaches the queue');
    }
    assert.equal(await restrictedAt(w, dee.userId), undefined);
    assert.equal(await w.moderation.distinctReporters(dee.userId, new Date(0).toISOString()), 0);
    assert.deepEqual(w.moderation.audit, []);
    await openConversation(openingDeps(w), dee.userId, (await addUser(w)).userId);
  });

  test('a young account does not count until it is old enough', async () => {
    const w = fakeWorld();
    const { ada, bob, dee } = await cast(w);
    ageAccounts(w);
    const fresh = await addUser(w);
    await writesTo(w, dee.userId, ada.userId, bob.userId, fresh.userId);
    w.clock.advance(w.config.moderation.reporterMinAgeHours * 3600_000 - 60_000);
    await createReport(reportingDeps(w), ada.userId, report(dee.userId));
    await createReport(reportingDeps(w), bob.userId, report(dee.userId));
    await createReport(reportingDeps(w), fresh.userId, report(dee.userId));
    assert.equal(await restrictedAt(w, dee.userId), undefined, 'a minute short of the minimum age');
    assert.equal(await w.moderation.distinctReporters(dee.userId, new Date(0).toISOString()), 2);

    w.clock.advance(60_000);
    const [cite] = (await w.conversations.history(directConversationId(fresh.userId, dee.userId), fresh.userId, undefined, 1)).messages;
    await createReport(reportingDeps(w), fresh.userId, report(dee.userId, { messageIds: [cite!.messageId] }));
    assert.ok(await restrictedAt(w, dee.userId), 'old enough now');
  });

  test('what counts as hearing from the target: a cited message, the last message, or a recent one; not hidden or expired ones', async () => {
    const w = fakeWorld({ env: { AUTO_RESTRICT_REPORTERS: '1', MESSAGE_RETENTION_DAYS: '30' } });
    const { ada, bob, cy, dee } = await cast(w);
    ageAccounts(w);
    const counted = async (reporter: string, target: string) => {
      await createReport(reportingDeps(w), reporter, report(target));
      return Boolean(await restrictedAt(w, target));
    };
    // the reporter wrote last: the target's earlier message is found in the recent history
    const [t1, t2, t3] = [await addUser(w), await addUser(w), await addUser(w)];
    await writesTo(w, t1.userId, ada.userId);
    for (let i = 0; i < 3; i++) await sendMessage(sendDeps(w), ada.userId, t1.userId, message(`reply-${i}-ada`));
    assert.equal(await counted(ada.userId, t1.userId), true);
    // messages from the target the reporter never saw (the reporter blocks the target) do not count
    await w.blocks.block(bob.userId, t2.userId);
    await writesTo(w, t2.userId, bob.userId);
    assert.equal(await counted(bob.userId, t2.userId), false);
    // past retention, the messages are gone and so is the reason to count
    await writesTo(w, t3.userId, cy.userId);
    w.clock.advance(31 * 24 * 3600_000);
    assert.equal(await counted(cy.userId, t3.userId), false);
    // a cited message from the target counts on its own
    await writesTo(w, dee.userId, ada.userId);
    const [cite] = (await w.conversations.history(directConversationId(ada.userId, dee.userId), ada.userId, undefined, 1)).messages;
    await sendMessage(sendDeps(w), ada.userId, dee.userId, message('answer-dee'));
    await createReport(reportingDeps(w), ada.userId, report(dee.userId, { messageIds: [cite!.messageId] }));
    assert.ok(await restrictedAt(w, dee.userId));
  });

  test('reporters older than the window do not count', async () => {
    const w = fakeWorld();
    const { ada, bob, cy, dee, mod } = await cast(w);
    await writesTo(w, dee.userId, ada.userId, bob.userId, cy.userId, mod.userId);
    ageAccounts(w);
    await createReport(reportingDeps(w), ada.userId, report(dee.userId));
    w.clock.advance(24 * 3600_000 + 1);
    await createReport(reportingDeps(w), bob.userId, report(dee.userId));
    await createReport(reportingDeps(w), cy.userId, report(dee.userId));
    assert.equal(await restrictedAt(w, dee.userId), undefined);
    await createReport(reportingDeps(w), mod.userId, report(dee.userId));
    assert.ok(await restrictedAt(w, dee.userId));
  });

  test('staff are never auto-restricted', async () => {
    const w = fakeWorld();
    const { ada, bob, cy, mod } = await cast(w);
    await writesTo(w, mod.userId, ada.userId, bob.userId, cy.userId);
    ageAccounts(w);
    for (const r of [ada, bob, cy]) await createReport(reportingDeps(w), r.userId, report(mod.userId));
    assert.equal(await restrictedAt(w, mod.userId), undefined);
  });

  test('a decision on a report lifts the restriction (reviewed); restore lifts it too', async () => {
    const w = fakeWorld({ env: { AUTO_RESTRICT_REPORTERS: '1' } });
    const { ada, bob, cy, mod } = await cast(w);
    await writesTo(w, bob.userId, ada.userId);
    await writesTo(w, cy.userId, ada.userId);
    ageAccounts(w);
    const filed = await createReport(reportingDeps(w), ada.userId, report(bob.userId));
    assert.ok(await restrictedAt(w, bob.userId));
    await resolveReport(sanctionDeps(w), mod, filed.report.reportId, { decision: 'warn', note: 'warned' });
    assert.equal(await restrictedAt(w, bob.userId), undefined);

    await createReport(reportingDeps(w), ada.userId, report(cy.userId));
    assert.ok(await restrictedAt(w, cy.userId));
    await restore(moderationDeps(w), mod, cy.userId, 'looked fine');
    assert.equal(await restrictedAt(w, cy.userId), undefined);
  });
});

describe('sanctions', () => {
  test('a ban ends every session and socket of the target at once, and is audited', async () => {
    const w = fakeWorld();
    const { bob, mod } = await cast(w);
    const [s1, s2] = [await signIn(w, bob.userId), await signIn(w, bob.userId)];
    const sockets = [w.connections.open(bob.userId, s1.sessionId), w.connections.open(bob.userId, s2.sessionId)];
    w.clock.advance(1000);
    const view = await sanction(sanctionDeps(w), mod, bob.userId, 'ban', { note: 'spam wave' });
    assert.deepEqual(view, { userId: bob.userId, status: 'banned' });
    assert.deepEqual(
      w.sessions.of(bob.userId).map((f) => f.revokeReason),
      ['banned', 'banned'],
    );
    assert.deepEqual(
      sockets.map((s) => w.connections.isOpen(s)),
      [false, false],
    );
    assert.equal((await w.users.get(bob.userId))?.tokensValidAfter, w.clock.now());
    await rejectsWith(authenticate(authDeps(w), `Bearer ${s1.accessToken}`), 401, 'token_revoked');
    const [entry] = (await auditLog(moderationDeps(w), 10, undefined)).entries;
    assert.deepEqual(
      { ...entry, auditId: undefined },
      { auditId: undefined, actorId: mod.userId, action: 'ban', targetUserId: bob.userId, note: 'spam wave', at: new Date(w.clock.now()).toISOString() },
    );
  });

  test('a suspension ends sessions and lasts until the clock reaches its end', async () => {
    const w = fakeWorld();
    const { bob, mod } = await cast(w);
    const s = await signIn(w, bob.userId);
    const socket = w.connections.open(bob.userId, s.sessionId);
    const view = await sanction(sanctionDeps(w), mod, bob.userId, 'suspend', { durationHours: 2, note: 'cool off' });
    const until = w.clock.now() + 2 * 3600_000;
    assert.deepEqual(view, { userId: bob.userId, status: 'suspended', suspendedUntil: new Date(until).toISOString() });
    assert.equal(w.connections.isOpen(socket), false);
    w.clock.advance(until - w.clock.now() - 1);
    const later = await signIn(w, bob.userId);
    await rejectsWith(authenticate(authDeps(w), `Bearer ${later.accessToken}`), 403, 'account_suspended');
    w.clock.advance(1);
    await authenticate(authDeps(w), `Bearer ${later.accessToken}`);
  });

  test('a suspension never overwrites a ban, also when both land at once', async () => {
    const w = fakeWorld();
    const { bob, cy, mod, mod2 } = await cast(w);
    await sanction(sanctionDeps(w), mod, bob.userId, 'ban', { note: 'ban' });
    await rejectsWith(sanction(sanctionDeps(w), mod2, bob.userId, 'suspend', { note: 'suspend' }), 409, 'already_banned');
    assert.equal((await w.users.get(bob.userId))?.status, 'banned');

    // both read an active account; the suspension's conditional write must refuse
    const [ban, suspend] = await Promise.allSettled([
      sanction(sanctionDeps(w), mod, cy.userId, 'ban', { note: 'ban' }),
      sanction(sanctionDeps(w), mod2, cy.userId, 'suspend', { note: 'suspend' }),
    ]);
    assert.equal(ban.status, 'fulfilled');
    assert.equal(suspend.status, 'rejected');
    assert.equal((suspend as PromiseRejectedResult).reason.code, 'already_banned');
    const after = await w.users.get(cy.userId);
    assert.deepEqual([after?.status, after?.suspendedUntil], ['banned', undefined]);
  });

  test('nobody handles their own case, moderators do not handle staff, and admins are never sanctioned', async () => {
    const w = fakeWorld();
    const { mod, mod2, admin } = await cast(w);
    await rejectsWith(sanction(sanctionDeps(w), mod, mod.userId, 'ban', { note: 'x' }), 403, 'cannot_act_on_self');
    await rejectsWith(sanction(sanctionDeps(w), mod, mod2.userId, 'ban', { note: 'x' }), 403, 'target_is_staff');
    await rejectsWith(sanction(sanctionDeps(w), admin, admin.userId, 'ban', { note: 'x' }), 403, 'cannot_act_on_self');
    const other = { userId: (await addUser(w, { role: 'admin' })).userId, role: 'admin' as const };
    await rejectsWith(sanction(sanctionDeps(w), admin, other.userId, 'suspend', { note: 'x' }), 403, 'target_is_staff');
    await sanction(sanctionDeps(w), admin, mod2.userId, 'suspend', { note: 'x' });
    assert.equal((await w.users.get(mod2.userId))?.status, 'suspended');
  });
});

describe('the moderation queue', () => {
  test('two moderators resolving one report at once: exactly one decision is recorded and carried out', async () => {
    const w = fakeWorld();
    const { ada, bob, mod, mod2 } = await cast(w);
    const { report: r } = await createReport(reportingDeps(w), ada.userId, report(bob.userId));
    const results = await Promise.allSettled([
      resolveReport(sanctionDeps(w), mod, r.reportId, { decision: 'ban', note: 'ban it' }),
      resolveReport(sanctionDeps(w), mod2, r.reportId, { decision: 'dismiss', note: 'fine' }),
    ]);
    const won = results.filter((x) => x.status === 'fulfilled');
    const lost = results.filter((x): x is PromiseRejectedResult => x.status === 'rejected');
    assert.equal(won.length, 1);
    assert.deepEqual(
      lost.map((x) => x.reason.code),
      ['report_resolved'],
    );
    const decisions = w.moderation.audit.filter((a) => a.action.startsWith('resolve_'));
    assert.equal(decisions.length, 1);
    const stored = await w.moderation.getReport(r.reportId);
    assert.equal(`resolve_${stored?.decision}`, decisions[0]!.action);
    assert.equal((await w.users.get(bob.userId))?.status, stored?.decision === 'ban' ? 'banned' : 'active');
    await rejectsWith(resolveReport(sanctionDeps(w), mod, r.reportId, { decision: 'warn', note: 'late' }), 409, 'report_resolved');
  });

  test('moderators never see reports about themselves; reports about staff are for admins only', async () => {
    const w = fakeWorld();
    const { ada, bob, mod, mod2, admin } = await cast(w);
    const aboutBob = await createReport(reportingDeps(w), ada.userId, report(bob.userId));
    w.clock.advance(1);
    const aboutMod = await createReport(reportingDeps(w), ada.userId, report(mod.userId));
    w.clock.advance(1);
    const aboutAdmin = await createReport(reportingDeps(w), ada.userId, report(admin.userId));
    const admin2 = { userId: (await addUser(w, { role: 'admin' })).userId, role: 'admin' as const };
    const ids = async (actor: { userId: string; role: Role }) => (await reportQueue(moderationDeps(w), actor, {})).reports.map((r) => r.reportId);
    assert.deepEqual(await ids(mod), [aboutBob.report.reportId]);
    assert.deepEqual(await ids(mod2), [aboutBob.report.reportId]);
    assert.deepEqual(await ids(admin), [aboutBob.report.reportId, aboutMod.report.reportId]);
    assert.deepEqual(await ids(admin2), [aboutBob.report.reportId, aboutMod.report.reportId, aboutAdmin.report.reportId]);
    await rejectsWith(reportDetails(moderationDeps(w), mod, aboutMod.report.reportId), 403, 'cannot_act_on_self');
    await rejectsWith(reportDetails(moderationDeps(w), admin, aboutAdmin.report.reportId), 403, 'cannot_act_on_self');
  });

  test('opening a report claims it for review once, with the target’s other reports', async () => {
    const w = fakeWorld();
    const { ada, bob, cy, mod, mod2 } = await cast(w);
    const older = await createReport(reportingDeps(w), cy.userId, report(bob.userId));
    w.clock.advance(1000);
    const { report: r } = await createReport(reportingDeps(w), ada.userId, report(bob.userId));
    const first = await reportDetails(moderationDeps(w), mod, r.reportId);
    assert.deepEqual([first.report.status, first.report.moderatorId], ['reviewing', mod.userId]);
    assert.deepEqual(
      first.targetHistory.map((h) => h.reportId),
      [older.report.reportId],
    );
    const second = await reportDetails(moderationDeps(w), mod2, r.reportId);
    assert.equal(second.report.moderatorId, mod.userId);
    assert.deepEqual(
      w.moderation.audit.map((a) => a.action),
      ['review_report'],
    );
    assert.deepEqual(
      (await reportQueue(moderationDeps(w), mod, { status: 'reviewing' })).reports.map((x) => x.reportId),
      [r.reportId],
    );
  });

  /** Sanctioning deps in which `meanwhile` runs right after a suspension's claim of a report was written. */
  function afterSuspendClaim(w: World, meanwhile: () => Promise<unknown>): SanctionDeps {
    const deps = sanctionDeps(w);
    const claim = w.moderation.updateReport.bind(w.moderation);
    deps.moderation = Object.assign(Object.create(w.moderation), {
      updateReport: async (...args: Parameters<typeof claim>) => {
        const out = await claim(...args);
        if (out && args[2].decision === 'suspend') await meanwhile();
        return out;
      },
    });
    return deps;
  }

  test('a decision that cannot be carried out gives the report back to the queue exactly as it was', async () => {
    const w = fakeWorld();
    const { ada, bob, mod, admin } = await cast(w);
    const { report: r } = await createReport(reportingDeps(w), ada.userId, report(bob.userId));
    const before = await w.moderation.getReport(r.reportId);
    // an admin's ban lands between the moderator's claim and the suspension it decided
    const deps = afterSuspendClaim(w, () => sanction(sanctionDeps(w), admin, bob.userId, 'ban', { note: 'ban' }));
    w.clock.advance(1000);
    await rejectsWith(resolveReport(deps, mod, r.reportId, { decision: 'suspend', note: 'suspend' }), 409, 'already_banned');

    assert.deepEqual(await w.moderation.getReport(r.reportId), before);
    assert.deepEqual(
      (await reportQueue(moderationDeps(w), mod, {})).reports.map((x) => [x.reportId, x.decision, x.moderatorId, x.moderatorNote]),
      [[r.reportId, undefined, undefined, undefined]],
    );
    const again = await createReport(reportingDeps(w), ada.userId, report(bob.userId));
    assert.deepEqual([again.created, again.report.reportId], [false, r.reportId]);
    assert.deepEqual(
      w.moderation.audit.map((a) => a.action),
      ['ban'],
      'nothing of the suspension that was not carried out',
    );
    const done = await resolveReport(sanctionDeps(w), admin, r.reportId, { decision: 'dismiss', note: 'already banned' });
    assert.deepEqual([done.status, done.decision, done.moderatorId], ['dismissed', 'dismiss', admin.userId]);
    assert.equal((await createReport(reportingDeps(w), ada.userId, report(bob.userId))).created, true, 'resolved: the key is free again');
  });

  test('a report being reviewed goes back to its reviewer when the decision fails', async () => {
    const w = fakeWorld();
    const { ada, bob, mod, mod2, admin } = await cast(w);
    const { report: r } = await createReport(reportingDeps(w), ada.userId, report(bob.userId));
    await reportDetails(moderationDeps(w), mod, r.reportId);
    const before = await w.moderation.getReport(r.reportId);
    const deps = afterSuspendClaim(w, () => sanction(sanctionDeps(w), admin, bob.userId, 'ban', { note: 'ban' }));
    await rejectsWith(resolveReport(deps, mod2, r.reportId, { decision: 'suspend', note: 'suspend' }), 409, 'already_banned');
    assert.deepEqual(await w.moderation.getReport(r.reportId), before);
    assert.deepEqual([before?.status, before?.moderatorId], ['reviewing', mod.userId]);
  });

  test('a duplicate filed while the decision was pending keeps the key; both reports can be resolved', async () => {
    const w = fakeWorld();
    const { ada, bob, mod, admin } = await cast(w);
    const { report: r } = await createReport(reportingDeps(w), ada.userId, report(bob.userId));
    w.clock.advance(1000);
    let duplicate: string | undefined;
    const deps = afterSuspendClaim(w, async () => {
      duplicate = (await createReport(reportingDeps(w), ada.userId, report(bob.userId))).report.reportId;
      await sanction(sanctionDeps(w), admin, bob.userId, 'ban', { note: 'ban' });
    });
    await rejectsWith(resolveReport(deps, mod, r.reportId, { decision: 'suspend', note: 'suspend' }), 409, 'already_banned');
    assert.ok(duplicate && duplicate !== r.reportId);

    const open = (await reportQueue(moderationDeps(w), mod, {})).reports;
    assert.deepEqual(
      open.map((x) => [x.reportId, x.decision]),
      [
        [r.reportId, undefined],
        [duplicate, undefined],
      ],
    );
    assert.equal((await createReport(reportingDeps(w), ada.userId, report(bob.userId))).report.reportId, duplicate, 'duplicates land on the holder');
    await resolveReport(sanctionDeps(w), mod, r.reportId, { decision: 'warn', note: 'warned' });
    assert.equal((await createReport(reportingDeps(w), ada.userId, report(bob.userId))).report.reportId, duplicate, 'the holder keeps the key');
    await resolveReport(sanctionDeps(w), mod, duplicate, { decision: 'dismiss', note: 'same case' });
    assert.equal((await createReport(reportingDeps(w), ada.userId, report(bob.userId))).created, true);
  });
});
