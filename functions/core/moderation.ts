// Block & report without reading messages: users block and report (revealing plaintext only if they
// choose), moderators decide, sanctions take effect at once, and every moderator action is audited.
import { createHash, randomBytes } from 'node:crypto';
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
  /** Same reporter, target and messages: at most one open report (released when resolved). */
  dedupeKey?: string;
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
  updateUser(userId: string, changes: Partial<Pick<UserRecord, 'status' | 'suspendedUntil' | 'tokensValidAfter' | 'restrictedAt'>>, opts?: { unlessStatus?: 'banned' }): Promise<UserRecord>;
  messageInConversation(conversationId: string, messageId: string, viewerId: string): Promise<boolean>;
  block(blocker: string, blocked: string, now: Date): Promise<{ blockedAt: string }>;
  /** Writes the report unless an unresolved one holds the same dedupe key; then returns that one's id. */
  putReport(report: ReportRecord & { dedupeKey: string }): Promise<{ created: true } | { created: false; existingId: string }>;
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

/** Same reporter, same target, same messages: one report while it is unresolved (idempotent). */
export function dedupeKeyOf(reporterId: string, targetUserId: string, messageIds: readonly string[]): string {
  const key = [reporterId, targetUserId, ...[...messageIds].sort()].join('\u0000');
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
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
  const report: ReportRecord & { dedupeKey: string } = {
    reportId: `r_${randomBytes(16).toString('hex')}`,
    dedupeKey: dedupeKeyOf(reporterId, input.targetUserId, messageIds),
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
  const put = await deps.putReport(report);
  if (input.block) await deps.block(reporterId, input.targetUserId, new Date(now));
  if (!put.created) return { report: (await deps.getReport(put.existingId)) ?? report, created: false };
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
  // staff are reviewed by admins, not restricted by a handful of throwaway accounts
  if (!target || target.restrictedAt || target.role !== 'user') return;
  await deps.updateUser(targetUserId, { restrictedAt: new Date(now).toISOString() });
  await deps.appendAudit({ at: new Date(now).toISOString(), actorId: 'system', action: 'auto_restrict', targetUserId, details: { reporters, windowHours: autoRestrictWindowHours } });
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

async function loadTarget(deps: ModerationDeps, targetUserId: string): Promise<UserRecord> {
  const target = await deps.getUser(targetUserId);
  if (!target) throw new NotFound('No such user', 'user_not_found');
  return target;
}

async function sanctionTarget(deps: ModerationDeps, actor: { userId: string; role: Role }, targetUserId: string): Promise<UserRecord> {
  const target = await loadTarget(deps, targetUserId);
  assertMayHandle(actor, target, true);
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
  const target = await sanctionTarget(deps, actor, targetUserId);
  if (kind === 'suspend' && target.status === 'banned') throw new Conflict('This account is banned; restore it before suspending it', 'already_banned');
  const now = deps.now();
  const changes =
    kind === 'ban'
      ? { status: 'banned' as const, suspendedUntil: undefined, tokensValidAfter: now }
      : { status: 'suspended' as const, suspendedUntil: now + (opts.durationHours ?? 24) * 3600_000, tokensValidAfter: now };
  // a suspension never overwrites a ban, also when both land at once (conditional write)
  const updated = await deps.updateUser(targetUserId, changes, kind === 'suspend' ? { unlessStatus: 'banned' } : {});
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
export async function reviewReport(deps: ModerationDeps, actor: { userId: string; role: Role }, reportId: string): Promise<ReportRecord> {
  const report = await deps.getReport(reportId);
  if (!report) throw new NotFound('No such report', 'report_not_found');
  assertMayHandle(actor, await loadTarget(deps, report.targetUserId), false);
  if (report.status !== 'open') return report;
  const now = new Date(deps.now()).toISOString();
  const claimed = await deps.updateReport(report, ['open'], { status: 'reviewing', updatedAt: now, moderatorId: actor.userId });
  if (!claimed) return (await deps.getReport(reportId)) ?? report;
  await deps.appendAudit({ at: now, actorId: actor.userId, action: 'review_report', reportId, targetUserId: report.targetUserId });
  return claimed;
}

/** May this moderator see this report in the queue? (Not their own case, and staff only for admins.) */
export function visibleInQueue(actor: { userId: string; role: Role }, target: Pick<UserRecord, 'userId' | 'role'> | undefined): boolean {
  if (!target) return true;
  if (actor.userId === target.userId) return false;
  return target.role === 'user' || actor.role === 'admin';
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
  const sanctioning = input.decision === 'suspend' || input.decision === 'ban';
  const target = await loadTarget(deps, report.targetUserId);
  assertMayHandle(actor, target, sanctioning);
  if (input.decision === 'suspend' && target.status === 'banned') throw new Conflict('This account is banned; restore it before suspending it', 'already_banned');
  // Claim the decision first (conditional on the report still being unresolved), then act: of two
  // moderators deciding at once, exactly one decision is recorded and carried out.
  const now = new Date(deps.now()).toISOString();
  const resolved = await deps.updateReport(report, ['open', 'reviewing'], {
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
      // the decision was not carried out: give the report back to the queue as it was
      await deps.updateReport(resolved, [resolved.status], { ...report, status: report.status });
      throw error;
    }
  }
  if (target.restrictedAt) await deps.updateUser(report.targetUserId, { restrictedAt: undefined }); // reviewed
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
