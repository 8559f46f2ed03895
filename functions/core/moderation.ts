// Block & report without reading messages: users block and report (revealing plaintext only if they
// choose), moderators decide, sanctions take effect at once, and every moderator action is audited.
import { createHash } from 'node:crypto';
import type { Config } from './config.ts';
import { BadRequest, Conflict, Forbidden, NotFound } from './errors.ts';
import type { CounterPort, Role, UserRecord } from './identity-ports.ts';
import { directConversationId } from './messaging.ts';
import { enforce } from './rate-limit.ts';

export type ReportReason = 'spam' | 'harassment' | 'hate' | 'violence' | 'sexual_content' | 'child_safety' | 'impersonation' | 'scam' | 'other';
export type ReportStatus = 'open' | 'reviewing' | 'actioned' | 'dismissed';
export type Decision = 'dismiss' | 'warn' | 'suspend' | 'ban';

export interface ReportRecord {
  reportId: string;
  reporterId: string;
  targetUserId: string;
  reason: ReportReason;
  details?: string;
  messageIds?: string[];
  evidence?: { messageId: string; plaintext: string }[];
  status: ReportStatus;
  createdAt: string;
  updatedAt: string;
  decision?: Decision;
  moderatorId?: string;
  moderatorNote?: string;
}

export interface AuditEntry {
  auditId: string;
  at: string;
  actorId: string;
  action: string;
  targetUserId?: string;
  reportId?: string;
  note?: string;
  details?: Record<string, unknown>;
}

export interface ModerationDeps {
  config: Config;
  now(): number;
  getUser(userId: string): Promise<UserRecord | undefined>;
  updateUser(userId: string, changes: Partial<Pick<UserRecord, 'status' | 'suspendedUntil' | 'tokensValidAfter' | 'restrictedAt'>>): Promise<UserRecord>;
  messageInConversation(conversationId: string, messageId: string, viewerId: string): Promise<boolean>;
  block(blocker: string, blocked: string, now: Date): Promise<{ blockedAt: string }>;
  putReport(report: ReportRecord): Promise<boolean>;
  getReport(reportId: string): Promise<ReportRecord | undefined>;
  updateReport(report: ReportRecord, from: ReportStatus[], changes: Partial<ReportRecord> & { status: ReportStatus }): Promise<ReportRecord | undefined>;
  distinctReporters(targetUserId: string, sinceIso: string): Promise<number>;
  appendAudit(entry: Omit<AuditEntry, 'auditId'>): Promise<AuditEntry>;
  counters: CounterPort;
  /** Ends every session and socket of the user at once. */
  cutSessions(userId: string, reason: string, now: number): Promise<void>;
}

/** What a reporter sees of their own report: never the decision's note or the moderator. */
export function reporterView(r: ReportRecord) {
  return { reportId: r.reportId, targetUserId: r.targetUserId, reason: r.reason, status: r.status, createdAt: r.createdAt, updatedAt: r.updatedAt };
}

/** Same reporter, same target, same messages: the same report (idempotent). */
export function reportIdOf(reporterId: string, targetUserId: string, messageIds: readonly string[]): string {
  const key = [reporterId, targetUserId, ...[...messageIds].sort()].join('\u0000');
  return `r_${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

export async function blockUser(deps: Pick<ModerationDeps, 'getUser' | 'block' | 'now'>, blocker: string, blocked: string) {
  if (blocker === blocked) throw new BadRequest('You cannot block yourself', 'cannot_block_self');
  if (!(await deps.getUser(blocked))) throw new NotFound('No such user', 'user_not_found');
  return deps.block(blocker, blocked, new Date(deps.now()));
}

export interface ReportInput {
  targetUserId: string;
  reason: ReportReason;
  details?: string | undefined;
  messageIds?: string[] | undefined;
  evidence?: { messageId: string; plaintext: string }[] | undefined;
  block?: boolean | undefined;
}

export async function createReport(deps: ModerationDeps, reporterId: string, input: ReportInput): Promise<{ report: ReportRecord; created: boolean }> {
  const now = deps.now();
  if (input.targetUserId === reporterId) throw new BadRequest('You cannot report yourself', 'cannot_report_self');
  await enforce(deps.counters, deps.config.rateLimits, 'reportReporter', reporterId, now);
  if (!(await deps.getUser(input.targetUserId))) throw new NotFound('No such user', 'user_not_found');
  const messageIds = [...new Set(input.messageIds ?? [])];
  const conversationId = directConversationId(reporterId, input.targetUserId);
  const checks = await Promise.all(messageIds.map((id) => deps.messageInConversation(conversationId, id, reporterId)));
  const foreign = messageIds.filter((_, i) => !checks[i]);
  if (foreign.length) {
    throw new BadRequest('Only messages of your conversation with this user can be reported', 'foreign_message', foreign.map((id) => ({ path: 'body.messageIds', message: `not in your conversation: ${id}` })));
  }
  const strayEvidence = (input.evidence ?? []).filter((e) => !messageIds.includes(e.messageId));
  if (strayEvidence.length) throw new BadRequest('Evidence must belong to the reported messages', 'evidence_without_message');

  const at = new Date(now).toISOString();
  const report: ReportRecord = {
    reportId: reportIdOf(reporterId, input.targetUserId, messageIds),
    reporterId,
    targetUserId: input.targetUserId,
    reason: input.reason,
    ...(input.details ? { details: input.details } : {}),
    ...(messageIds.length ? { messageIds } : {}),
    ...(input.evidence?.length ? { evidence: input.evidence } : {}),
    status: 'open',
    createdAt: at,
    updatedAt: at,
  };
  const created = await deps.putReport(report);
  if (input.block) await deps.block(reporterId, input.targetUserId, new Date(now));
  if (!created) return { report: (await deps.getReport(report.reportId)) ?? report, created: false };
  await autoRestrict(deps, input.targetUserId, now);
  return { report, created: true };
}

/** Past the threshold of distinct reporters within the window, no new conversations until reviewed. */
async function autoRestrict(deps: ModerationDeps, targetUserId: string, now: number): Promise<void> {
  const { autoRestrictReporters, autoRestrictWindowHours } = deps.config.moderation;
  const since = new Date(now - autoRestrictWindowHours * 3600_000).toISOString();
  const reporters = await deps.distinctReporters(targetUserId, since);
  if (reporters < autoRestrictReporters) return;
  const target = await deps.getUser(targetUserId);
  if (!target || target.restrictedAt) return;
  await deps.updateUser(targetUserId, { restrictedAt: new Date(now).toISOString() });
  await deps.appendAudit({ at: new Date(now).toISOString(), actorId: 'system', action: 'auto_restrict', targetUserId, details: { reporters, windowHours: autoRestrictWindowHours } });
}

/** Moderators act on users, not on staff: only admins act on moderators, and nobody on admins. */
async function sanctionTarget(deps: ModerationDeps, actor: { userId: string; role: Role }, targetUserId: string): Promise<UserRecord> {
  if (actor.userId === targetUserId) throw new BadRequest('You cannot act on your own account', 'cannot_act_on_self');
  const target = await deps.getUser(targetUserId);
  if (!target) throw new NotFound('No such user', 'user_not_found');
  if (target.role === 'admin' || (target.role === 'moderator' && actor.role !== 'admin')) throw new Forbidden('Staff accounts are managed by administrators', 'target_is_staff');
  return target;
}

export interface SanctionView {
  userId: string;
  status: 'active' | 'suspended' | 'banned';
  suspendedUntil?: string;
}

const sanctionView = (u: UserRecord): SanctionView => ({
  userId: u.userId,
  status: u.status,
  ...(u.suspendedUntil ? { suspendedUntil: new Date(u.suspendedUntil).toISOString() } : {}),
});

export async function sanction(
  deps: ModerationDeps,
  actor: { userId: string; role: Role },
  targetUserId: string,
  kind: 'suspend' | 'ban',
  opts: { durationHours?: number | undefined; note: string; reportId?: string | undefined },
): Promise<SanctionView> {
  await sanctionTarget(deps, actor, targetUserId);
  const now = deps.now();
  const changes =
    kind === 'ban'
      ? { status: 'banned' as const, suspendedUntil: undefined, tokensValidAfter: now }
      : { status: 'suspended' as const, suspendedUntil: now + (opts.durationHours ?? 24) * 3600_000, tokensValidAfter: now };
  const updated = await deps.updateUser(targetUserId, changes);
  await deps.cutSessions(targetUserId, kind === 'ban' ? 'banned' : 'suspended', now);
  await deps.appendAudit({
    at: new Date(now).toISOString(),
    actorId: actor.userId,
    action: kind,
    targetUserId,
    note: opts.note,
    ...(opts.reportId ? { reportId: opts.reportId } : {}),
    ...(kind === 'suspend' ? { details: { durationHours: opts.durationHours, until: new Date(changes.suspendedUntil!).toISOString() } } : {}),
  });
  return sanctionView(updated);
}

export async function restore(deps: ModerationDeps, actor: { userId: string; role: Role }, targetUserId: string, note: string): Promise<SanctionView> {
  await sanctionTarget(deps, actor, targetUserId);
  const now = deps.now();
  const updated = await deps.updateUser(targetUserId, { status: 'active', suspendedUntil: undefined, restrictedAt: undefined });
  await deps.appendAudit({ at: new Date(now).toISOString(), actorId: actor.userId, action: 'restore', targetUserId, note });
  return sanctionView(updated);
}

/** Opening a report claims it for review (open → reviewing), recorded in the audit log once. */
export async function reviewReport(deps: ModerationDeps, actor: { userId: string }, reportId: string): Promise<ReportRecord> {
  const report = await deps.getReport(reportId);
  if (!report) throw new NotFound('No such report', 'report_not_found');
  if (report.status !== 'open') return report;
  const now = new Date(deps.now()).toISOString();
  const claimed = await deps.updateReport(report, ['open'], { status: 'reviewing', updatedAt: now, moderatorId: actor.userId });
  if (!claimed) return (await deps.getReport(reportId)) ?? report;
  await deps.appendAudit({ at: now, actorId: actor.userId, action: 'review_report', reportId, targetUserId: report.targetUserId });
  return claimed;
}

export async function resolveReport(
  deps: ModerationDeps,
  actor: { userId: string; role: Role },
  reportId: string,
  input: { decision: Decision; durationHours?: number | undefined; note: string },
): Promise<ReportRecord> {
  const report = await deps.getReport(reportId);
  if (!report) throw new NotFound('No such report', 'report_not_found');
  if (report.status === 'actioned' || report.status === 'dismissed') throw new Conflict('This report is already resolved', 'report_resolved');
  if (input.decision === 'suspend' || input.decision === 'ban') {
    await sanction(deps, actor, report.targetUserId, input.decision, { durationHours: input.durationHours, note: input.note, reportId });
  } else if (input.decision === 'warn') {
    await sanctionTarget(deps, actor, report.targetUserId);
  }
  const now = new Date(deps.now()).toISOString();
  const resolved = await deps.updateReport(report, ['open', 'reviewing'], {
    status: input.decision === 'dismiss' ? 'dismissed' : 'actioned',
    decision: input.decision,
    moderatorId: actor.userId,
    moderatorNote: input.note,
    updatedAt: now,
  });
  if (!resolved) throw new Conflict('This report was resolved meanwhile', 'report_resolved');
  const target = await deps.getUser(report.targetUserId);
  if (target?.restrictedAt) await deps.updateUser(report.targetUserId, { restrictedAt: undefined }); // reviewed
  await deps.appendAudit({
    at: now,
    actorId: actor.userId,
    action: `resolve_${input.decision}`,
    reportId,
    targetUserId: report.targetUserId,
    note: input.note,
  });
  return resolved;
}
