// POST /api/admin/reports/{reportId}/resolve: dismiss, warn, suspend or ban; audited.
import { adminResolveReport as contract } from '#contract/admin/resolve-report.ts';
import { resolveReport } from '#core/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { staffGate } from '#wiring/auth.ts';
import { sanctions } from '#wiring/moderation.ts';

export const handler = httpHandler(contract, staffGate).handle(async ({ auth, path, body }) => ({
  body: { report: await resolveReport(sanctions(), auth, path.reportId, body) },
}));
