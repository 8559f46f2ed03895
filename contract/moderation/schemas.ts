// Reports as their reporter sees them; reasons and statuses are defined here once.
import * as z from 'zod/mini';

export const reportReasons = ['spam', 'harassment', 'hate', 'violence', 'sexual_content', 'child_safety', 'impersonation', 'scam', 'other'] as const;
export type ReportReason = (typeof reportReasons)[number];
export const reportStatuses = ['open', 'reviewing', 'actioned', 'dismissed'] as const;
export type ReportStatus = (typeof reportStatuses)[number];

/** What a reporter sees of their own report: never the decision's note or the moderator. */
export const myReport = z.object({
  reportId: z.string(),
  targetUserId: z.string(),
  reason: z.enum(reportReasons),
  status: z.enum(reportStatuses),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type MyReport = z.infer<typeof myReport>;
