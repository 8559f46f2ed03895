// What moderators and admins see: whole reports, sanctions and the audit log.
import * as z from 'zod/mini';
import { accountStatuses, userId } from '../common.ts';
import { myReport } from '../moderation/schemas.ts';

/** A flat map of plain values: the only open-keyed shape the API sends (nothing nested can hide in it). */
export const flatDetails = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

export const decisions = ['dismiss', 'warn', 'suspend', 'ban'] as const;
export type Decision = (typeof decisions)[number];

export const report = z.extend(myReport, {
  reporterId: z.string(),
  details: z.optional(z.string()),
  messageIds: z.optional(z.array(z.string())),
  evidence: z.optional(z.array(z.object({ messageId: z.string(), plaintext: z.string() }))),
  decision: z.optional(z.enum(decisions)),
  moderatorId: z.optional(z.string()),
  moderatorNote: z.optional(z.string()),
  /** A report about a group message: the group as it was when the report was filed. */
  group: z.optional(z.object({ conversationId: z.string(), name: z.string(), memberCount: z.number() })),
});
export type Report = z.infer<typeof report>;

export const sanction = z.object({ userId: z.string(), status: z.enum(accountStatuses), suspendedUntil: z.optional(z.string()) });
export type Sanction = z.infer<typeof sanction>;

export const auditEntry = z.object({
  auditId: z.string(),
  at: z.string(),
  actorId: z.string(),
  action: z.string(),
  targetUserId: z.optional(z.string()),
  reportId: z.optional(z.string()),
  note: z.optional(z.string()),
  details: z.optional(flatDetails),
});
export type AuditEntry = z.infer<typeof auditEntry>;

export const note = z.string().check(z.trim(), z.minLength(1), z.maxLength(2000));
export const userPath = z.strictObject({ userId });
export const hours = z.int().check(z.minimum(1), z.maximum(24 * 365));
