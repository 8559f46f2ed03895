// GET /api/admin/reports/{reportId}: the report (an open one moves to reviewing) and the target's history.
import { reviewReport } from '#core/moderation.ts';
import { moderationDeps } from '#adapters/moderation-deps.ts';
import { reportsOf } from '#adapters/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { adminGetReport as contract } from '#contract/admin/get-report.ts';

export const handler = httpHandler(contract).handle(async ({ auth, path }) => {
  const report = await reviewReport(moderationDeps, auth, path.reportId);
  const history = await reportsOf(report.targetUserId, 'REPORTED#', 50);
  return { body: { report, targetHistory: history.reports.filter((r) => r.reportId !== report.reportId) } };
});
