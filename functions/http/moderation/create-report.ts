// POST /api/reports: 201 for a new report, 200 with the same report when filed again.
import { createReport, reporterView } from '#core/moderation.ts';
import { moderationDeps } from '#adapters/moderation-deps.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { routes } from '#lib/routes.ts';

export const handler = httpHandler(routes.createReport, async ({ auth, body }) => {
  const { report, created } = await createReport(moderationDeps, auth.userId, body);
  return { statusCode: created ? 201 : 200, body: reporterView(report) };
});
