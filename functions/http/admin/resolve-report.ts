// POST /api/admin/reports/{reportId}/resolve: dismiss, warn, suspend or ban; audited.
import { resolveReport } from '#core/moderation.ts';
import { moderationDeps } from '#adapters/moderation-deps.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { adminResolveReport as contract } from '#contract/admin/resolve-report.ts';

export const handler = httpHandler(contract).handle(async ({ auth, path, body }) => ({
  body: { report: await resolveReport(moderationDeps, auth, path.reportId, body) },
}));
