// Block & report without reading messages: users block and report (revealing plaintext only if they
// choose), moderators decide, sanctions take effect at once, and every moderator action is audited.
import { createHash, randomBytes } from 'node:crypto';
import type { Role } from '#contract/common.ts';
import type { ReportInput } from '#contract/moderation/create-report.ts';
import type { MyReport, ReportReason, ReportStatus } from '#contract/moderation/schemas.ts';
import type { AuditEntry, Decision, Report, Sanction } from '#contract/admin/schemas.ts';
import type { CloseNotice } from '#contract/realtime/close-codes.ts';
import type { Config } from './config.ts';
import { BadRequest, Conflict, Forbidden, NotFound } from './errors.ts';
import type {
  BlocksPort,
  Clock,
  ConnectionsPort,
  ConversationsPort,
  GroupReportsPort,
  LimitsPort,
  MessageRecord,
  MetricsPort,
  ModerationPort,
  ReportsPort,
  ReportRecord,
  SessionsPort,
  UserRecord,
  UsersPort,
} from './ports.ts';
import { directConversationId } from './message-rules.ts';
import { enforce } from './rate-limit.ts';

export type { Decision, ReportReason, ReportStatus, ReportRecord, AuditEntry };

/** What every report flow needs: settings, time, users, and the report lifecycle with its audit appends. */
export interface ReportDeps {
  config: Config;
  clock: Clock;
  users: Pick<UsersPort, 'get' | 'update' | 'displayNames' | 'rolesOf'>;
  moderation: ReportsPort;
}

/** The queue, reviews and lists also read reports and the audit log. */
export interface ModerationDeps extends ReportDeps {
  moderation: ModerationPort;
}

/**
 * Filing a report also checks the cited messages, may block, counts against a limit, reads the
 * reporter's side of the conversation with the target (does the report count toward restriction?)
 * and counts the reports filed (ReportsFiled).
 */
export interface ReportingDeps extends ReportDeps {
  blocks: Pick<BlocksPort, 'block'>;
  conversations: Pick<ConversationsPort, 'getMessage' | 'getMember' | 'history'>;
  /** Reports about group messages: the group, the reporter's membership and its own copies. */
  groups: GroupReportsPort;
  limits: LimitsPort;
  metrics: MetricsPort;
}

/** Blocking and the list of blocked users. */
export interface BlockingDeps {
  users: Pick<UsersPort, 'get' | 'displayNames'>;
  blocks: BlocksPort;
}

/** Sanctions also end the target's sessions and sockets at once. */
export interface SanctionDeps extends ReportDeps {
  sessions: Pick<SessionsPort, 'revokeAllForUser'>;
  connections: Pick<ConnectionsPort, 'endForUser'>;
}

/** The target's sockets are told why (account_suspended 4004, account_banned 4006; contract/realtime/close-codes.ts) before they close. */
async function cutSessions(deps: SanctionDeps, userId: string, reason: string, notice: CloseNotice): Promise<void> {
  await deps.sessions.revokeAllForUser(userId, reason);
  await deps.connections.endForUser(userId, { notice });
}

/** The message, if it is in this conversation and visible to the viewer. */
async function visibleMessage(deps: ReportingDeps, conversationId: string, messageId: string, viewerId: string): Promise<MessageRecord | undefined> {
  const m = await deps.conversations.getMessage(conversationId, messageId);
  return m && m.hiddenFrom !== viewerId ? m : undefined;
}

/**
 * A report about a group: the reporter must be a member (others get the 404 of a group that does not
 * exist), and each cited message must be the target's, among the reporter's own copies (so never one
 * from before the reporter joined, nor one from someone it blocks). The group's id, name and member
 * count go with the report, as they are when it is filed, for the moderators' queue.
 */
async function groupContext(deps: ReportingDeps, g: string, reporterId: string, targetUserId: string, messageIds: readonly string[]) {
  const read = await deps.groups.reportContext(g, reporterId, messageIds);
  if (!read.meta || !read.member) throw new NotFound('No such conversation', 'conversation_not_found');
  return {
    cited: read.copies.map((m) => (m && m.senderId === targetUserId && !m.event ? m : undefined)),
    group: { conversationId: g, name: read.meta.name, memberCount: read.meta.memberCount },
  };
}

/** How far back the conversation is searched for a message from the target when none is cited. */
const RECENT_MESSAGES = 50;

/**
 * Does a report count toward auto-restriction? Only when the reporter's account is old enough and the
 * target really wrote to them: a cited message from the target, or one still within retention in
 * their conversation (the reporter's member item names the last sender; else the recent history).
 * Anyone may report anyone, and every report reaches the queue; strangers and fresh accounts just
 * cannot silence someone by numbers.
 */
async function reportCounts(
  deps: ReportingDeps,
  reporter: UserRecord | undefined,
  targetUserId: string,
  conversationId: string,
  cited: readonly (MessageRecord | undefined)[],
  now: number,
): Promise<boolean> {
  const { moderation, messages } = deps.config;
  if (!reporter || now - Date.parse(reporter.createdAt) < moderation.reporterMinAgeHours * 3600_000) return false;
  if (cited.some((m) => m?.senderId === targetUserId)) return true;
  const member = await deps.conversations.getMember(conversationId, reporter.userId);
  if (!member?.lastMessageAt || Date.parse(member.lastMessageAt) <= now - messages.retentionSeconds * 1000) return false;
  if (member.lastSenderId === targetUserId) return true;
  const recent = await deps.conversations.history(conversationId, reporter.userId, undefined, RECENT_MESSAGES);
  return recent.messages.some((m) => m.senderId === targetUserId);
}

/** What a reporter sees of their own report: never the decision's note or the moderator. */
export function reporterView(r: ReportRecord): MyReport {
  return { reportId: r.reportId, targetUserId: r.targetUserId, reason: r.reason, status: r.status, createdAt: r.createdAt, updatedAt: r.updatedAt };
}

/** Same reporter, same target, same messages: one report while it is unresolved (idempotent). */
export function dedupeKeyOf(reporterId: string, targetUserId: string, messageIds: readonly string[]): string {
  const key = [reporterId, targetUserId, ...[...messageIds].sort()].join('\u0000');
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}

export async function blockUser(deps: BlockingDeps, blocker: string, blocked: string) {
  if (blocker === blocked) throw new BadRequest('You cannot block yourself', 'cannot_block_self');
  if (!(await deps.users.get(blocked))) throw new NotFound('No such user', 'user_not_found');
  return deps.blocks.block(blocker, blocked);
}

/** Unblocking is idempotent and restores future delivery only. */
export async function unblockUser(deps: Pick<BlockingDeps, 'blocks'>, blocker: string, blocked: string): Promise<void> {
  await deps.blocks.unblock(blocker, blocked);
}

/** The users the caller blocks, newest first, with their display names. */
export async function listBlocked(deps: BlockingDeps, blocker: string, limit: number, cursor: string | undefined) {
  const page = await deps.blocks.listBlocked(blocker, limit, cursor);
  const names = await deps.users.displayNames(page.items.map((i) => i.userId));
  return {
    blocked: page.items.map((i) => ({ ...i, ...(names.has(i.userId) ? { displayName: names.get(i.userId)! } : {}) })),
    ...(page.cursor ? { cursor: page.cursor } : {}),
  };
}

/** The caller's own reports and their status; never the moderator's notes. */
export async function listMyReports(deps: ModerationDeps, reporterId: string, limit: number, cursor: string | undefined) {
  const page = await deps.moderation.reportsOf(reporterId, 'filed', limit, cursor);
  return { reports: page.items.map(reporterView), ...(page.cursor ? { cursor: page.cursor } : {}) };
}

export async function createReport(deps: ReportingDeps, reporterId: string, input: ReportInput): Promise<{ report: ReportRecord; created: boolean }> {
  const now = deps.clock.now();
  if (input.targetUserId === reporterId) throw new BadRequest('You cannot report yourself', 'cannot_report_self');
  await enforce(deps, 'reportReporter', reporterId);
  const [target, reporter] = await Promise.all([deps.users.get(input.targetUserId), deps.users.get(reporterId)]);
  if (!target) throw new NotFound('No such user', 'user_not_found');
  const messageIds = [...new Set(input.messageIds ?? [])];
  const conversationId = directConversationId(reporterId, input.targetUserId);
  const inGroup = input.conversationId ? await groupContext(deps, input.conversationId, reporterId, input.targetUserId, messageIds) : undefined;
  const cited = inGroup ? inGroup.cited : await Promise.all(messageIds.map((id) => visibleMessage(deps, conversationId, id, reporterId)));
  const foreign = messageIds.filter((_, i) => !cited[i]);
  if (foreign.length) {
    throw new BadRequest(
      'Only messages of your conversation with this user can be reported',
      'foreign_message',
      foreign.map((id) => ({ path: 'body.messageIds', message: `not in your conversation: ${id}` })),
    );
  }
  const strayEvidence = (input.evidence ?? []).filter((e) => !messageIds.includes(e.messageId));
  if (strayEvidence.length) throw new BadRequest('Evidence must belong to the reported messages', 'evidence_without_message');

  const at = new Date(now).toISOString();
  const report: ReportRecord & { dedupeKey: string } = {
    reportId: `r_${randomBytes(16).toString('hex')}`,
    dedupeKey: dedupeKeyOf(reporterId, input.targetUserId, messageIds),
    reporterId,
    targetUserId: input.targetUserId,
    reason: input.reason,
    ...(input.details ? { details: input.details } : {}),
    ...(messageIds.length ? { messageIds } : {}),
    ...(input.evidence?.length ? { evidence: input.evidence } : {}),
    ...(inGroup ? { group: inGroup.group } : {}),
    status: 'open',
    createdAt: at,
    updatedAt: at,
  };
  const counts = await reportCounts(deps, reporter, input.targetUserId, conversationId, cited, now);
  const put = await deps.moderation.putReport(report, counts);
  if (put.created) deps.metrics.count('ReportsFiled'); // stored now; filing the same report again is not a new one
  if (input.block) await deps.blocks.block(reporterId, input.targetUserId);
  if (!put.created) return { report: (await deps.moderation.getReport(put.existingId)) ?? report, created: false };
  if (counts) await autoRestrict(deps, input.targetUserId, now);
  return { report, created: true };
}

/**
 * Past the threshold of distinct reporters whose reports count (see reportCounts) within the window,
 * no new conversations until reviewed.
 */
async function autoRestrict(deps: ReportDeps, targetUserId: string, now: number): Promise<void> {
  const { autoRestrictReporters, autoRestrictWindowHours } = deps.config.moderation;
  const since = new Date(now - autoRestrictWindowHours * 3600_000).toISOString();
  const reporters = await deps.moderation.distinctReporters(targetUserId, since);
  if (reporters < autoRestrictReporters) return;
  const target = await deps.users.get(targetUserId);
  // staff are reviewed by admins, not restricted by a handful of throwaway accounts
  if (!target || target.restrictedAt || target.role !== 'user') return;
  await deps.users.update(targetUserId, { restrictedAt: new Date(now).toISOString() });
  await deps.moderation.appendAudit({ actorId: 'system', action: 'auto_restrict', targetUserId, details: { reporters, windowHours: autoRestrictWindowHours } });
}

/**
 * Who may handle whom: nobody their own case; only admins handle moderators and admins; and no
 * sanction ever reaches an admin (admins are managed out of band, from the command line).
 */
function assertMayHandle(actor: { userId: string; role: Role }, target: UserRecord, sanctioning: boolean): void {
  if (actor.userId === target.userId) throw new Forbidden('You cannot handle your own case', 'cannot_act_on_self');
  if (target.role !== 'user' && actor.role !== 'admin') throw new Forbidden('Staff accounts are handled by administrators', 'target_is_staff');
  if (sanctioning && target.role === 'admin') throw new Forbidden('Administrators cannot be sanctioned through the API', 'target_is_staff');
}

async function loadTarget(deps: ReportDeps, targetUserId: string): Promise<UserRecord> {
  const target = await deps.users.get(targetUserId);
  if (!target) throw new NotFound('No such user', 'user_not_found');
  return target;
}

async function sanctionTarget(deps: ReportDeps, actor: { userId: string; role: Role }, targetUserId: string): Promise<UserRecord> {
  const target = await loadTarget(deps, targetUserId);
  assertMayHandle(actor, target, true);
  return target;
}

export type SanctionView = Sanction;

const sanctionView = (u: UserRecord): SanctionView => ({
  userId: u.userId,
  status: u.status,
  ...(u.suspendedUntil ? { suspendedUntil: new Date(u.suspendedUntil).toISOString() } : {}),
});

export async function sanction(
  deps: SanctionDeps,
  actor: { userId: string; role: Role },
  targetUserId: string,
  kind: 'suspend' | 'ban',
  opts: { durationHours?: number | undefined; note: string; reportId?: string | undefined },
): Promise<SanctionView> {
  const target = await sanctionTarget(deps, actor, targetUserId);
  if (kind === 'suspend' && target.status === 'banned') throw new Conflict('This account is banned; restore it before suspending it', 'already_banned');
  const now = deps.clock.now();
  const changes =
    kind === 'ban'
      ? { status: 'banned' as const, suspendedUntil: undefined, tokensValidAfter: now }
      : { status: 'suspended' as const, suspendedUntil: now + (opts.durationHours ?? 24) * 3600_000, tokensValidAfter: now };
  // a suspension never overwrites a ban, also when both land at once (conditional write)
  const updated = await deps.users.update(targetUserId, changes, kind === 'suspend' ? { unlessStatus: 'banned' } : {});
  const until = changes.suspendedUntil && new Date(changes.suspendedUntil).toISOString();
  await cutSessions(
    deps,
    targetUserId,
    kind === 'ban' ? 'banned' : 'suspended',
    until
      ? {
          type: 'error',
          code: 'account_suspended',
          message: `This account is suspended until ${until}`,
          details: { until },
          close: { code: 4004, reason: 'account_suspended' },
        }
      : { type: 'error', code: 'account_banned', message: 'This account is banned', close: { code: 4006, reason: 'account_banned' } },
  );
  await deps.moderation.appendAudit({
    actorId: actor.userId,
    action: kind,
    targetUserId,
    note: opts.note,
    ...(opts.reportId ? { reportId: opts.reportId } : {}),
    ...(until ? { details: { durationHours: opts.durationHours ?? 24, until } } : {}),
  });
  return sanctionView(updated);
}

export async function restore(deps: ReportDeps, actor: { userId: string; role: Role }, targetUserId: string, note: string): Promise<SanctionView> {
  await sanctionTarget(deps, actor, targetUserId);
  const updated = await deps.users.update(targetUserId, { status: 'active', suspendedUntil: undefined, restrictedAt: undefined });
  await deps.moderation.appendAudit({ actorId: actor.userId, action: 'restore', targetUserId, note });
  return sanctionView(updated);
}

/** Opening a report claims it for review (open → reviewing), recorded in the audit log once. */
export async function reviewReport(deps: ReportDeps, actor: { userId: string; role: Role }, reportId: string): Promise<ReportRecord> {
  const report = await deps.moderation.getReport(reportId);
  if (!report) throw new NotFound('No such report', 'report_not_found');
  assertMayHandle(actor, await loadTarget(deps, report.targetUserId), false);
  if (report.status !== 'open') return report;
  const now = new Date(deps.clock.now()).toISOString();
  const claimed = await deps.moderation.updateReport(report, ['open'], { status: 'reviewing', updatedAt: now, moderatorId: actor.userId });
  if (!claimed) return (await deps.moderation.getReport(reportId)) ?? report;
  await deps.moderation.appendAudit({ actorId: actor.userId, action: 'review_report', reportId, targetUserId: report.targetUserId });
  return claimed;
}

/** May this moderator see this report in the queue? (Not their own case, and staff only for admins.) */
export function visibleInQueue(actor: { userId: string; role: Role }, target: Pick<UserRecord, 'userId' | 'role'> | undefined): boolean {
  if (!target) return true;
  if (actor.userId === target.userId) return false;
  return target.role === 'user' || actor.role === 'admin';
}

export async function resolveReport(
  deps: SanctionDeps,
  actor: { userId: string; role: Role },
  reportId: string,
  input: { decision: Decision; durationHours?: number | undefined; note: string },
): Promise<ReportRecord> {
  const report = await deps.moderation.getReport(reportId);
  if (!report) throw new NotFound('No such report', 'report_not_found');
  if (report.status === 'actioned' || report.status === 'dismissed') throw new Conflict('This report is already resolved', 'report_resolved');
  const sanctioning = input.decision === 'suspend' || input.decision === 'ban';
  const target = await loadTarget(deps, report.targetUserId);
  assertMayHandle(actor, target, sanctioning);
  if (input.decision === 'suspend' && target.status === 'banned')
    throw new Conflict('This account is banned; restore it before suspending it', 'already_banned');
  // Claim the decision first (conditional on the report still being unresolved), then act: of two
  // moderators deciding at once, exactly one decision is recorded and carried out.
  const now = new Date(deps.clock.now()).toISOString();
  const resolved = await deps.moderation.updateReport(report, ['open', 'reviewing'], {
    status: input.decision === 'dismiss' ? 'dismissed' : 'actioned',
    decision: input.decision,
    moderatorId: actor.userId,
    moderatorNote: input.note,
    updatedAt: now,
  });
  if (!resolved) throw new Conflict('This report was resolved meanwhile', 'report_resolved');
  if (sanctioning) {
    try {
      await sanction(deps, actor, report.targetUserId, input.decision as 'suspend' | 'ban', { durationHours: input.durationHours, note: input.note, reportId });
    } catch (error) {
      // The decision was not carried out: give the report back to the queue exactly as it was read
      // (status, no decision fields, its dedupe key held again). If someone acted on it since our
      // claim, the port leaves it alone: their action stands.
      await deps.moderation.reopenReport(resolved, report);
      throw error;
    }
  }
  if (target.restrictedAt) await deps.users.update(report.targetUserId, { restrictedAt: undefined }); // reviewed
  await deps.moderation.appendAudit({
    actorId: actor.userId,
    action: `resolve_${input.decision}`,
    reportId,
    targetUserId: report.targetUserId,
    note: input.note,
  });
  return resolved;
}

/** The queue of one status (default open), oldest first: never reports about the viewer, staff only for admins. */
export async function reportQueue(
  deps: ModerationDeps,
  actor: { userId: string; role: Role },
  query: { status?: ReportStatus | undefined; reason?: ReportReason | undefined; limit?: number | undefined; cursor?: string | undefined },
) {
  const page = await deps.moderation.reportQueue(query.status ?? 'open', query.reason, query.limit ?? 50, query.cursor);
  const roles = await deps.users.rolesOf(page.items.map((r) => r.targetUserId));
  const reports = page.items.filter((r) => {
    const role = roles.get(r.targetUserId);
    return visibleInQueue(actor, role ? { userId: r.targetUserId, role } : undefined);
  });
  return { reports, ...(page.cursor ? { cursor: page.cursor } : {}) };
}

/** One report (an open one moves to reviewing) with the target's report history. */
export async function reportDetails(
  deps: ModerationDeps,
  actor: { userId: string; role: Role },
  reportId: string,
): Promise<{ report: Report; targetHistory: Report[] }> {
  const report = await reviewReport(deps, actor, reportId);
  const history = await deps.moderation.reportsOf(report.targetUserId, 'about', 50);
  return { report, targetHistory: history.items.filter((r) => r.reportId !== report.reportId) };
}

/** The append-only audit log, newest first. */
export async function auditLog(deps: Pick<ModerationDeps, 'moderation'>, limit: number, cursor: string | undefined) {
  const page = await deps.moderation.listAudit(limit, cursor);
  return { entries: page.items, ...(page.cursor ? { cursor: page.cursor } : {}) };
}
