// POST /api/admin/reports/{reportId}/resolve: dismiss, warn, suspend or ban; audited.
import { resolveReport } from '#core/moderation.ts';
import { moderationDeps } from '#adapters/moderation-deps.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { routes } from '#lib/routes.ts';

export const handler = httpHandler(routes.adminResolveReport, async ({ auth, path, body }) => ({
  body: { report: await resolveReport(moderationDeps, auth, path.reportId, body) },
}));
