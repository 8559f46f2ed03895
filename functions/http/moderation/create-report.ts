// POST /api/reports: 201 for a new report, 200 with the same report when filed again.
import { createReport, reporterView } from '#core/moderation.ts';
import { moderationDeps } from '#adapters/moderation-deps.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { createReport as contract } from '#contract/moderation/create-report.ts';

export const handler = httpHandler(contract).handle(async ({ auth, body }) => {
  const { report, created } = await createReport(moderationDeps, auth.userId, body);
  return { statusCode: created ? 201 : 200, body: reporterView(report) };
});
