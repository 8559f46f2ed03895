// POST /api/reports: 201 for a new report, 200 with the same report when filed again.
import { createReport as contract } from '#contract/moderation/create-report.ts';
import { createReport, reporterView } from '#core/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { publishMetrics } from '#middleware/metrics.ts';
import { httpGate } from '#wiring/auth.ts';
import { reporting } from '#wiring/moderation.ts';

export const handler = httpHandler(contract, httpGate)
  .handle(async ({ auth, body }) => {
    const { report, created } = await createReport(reporting(), auth.userId, body);
    return created ? { statusCode: 201, body: reporterView(report) } : { body: reporterView(report) };
  })
  .use(publishMetrics());
