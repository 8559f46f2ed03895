// GET /api/admin/reports/{reportId}: the report (an open one moves to reviewing) and the target's history.
import { adminGetReport as contract } from '#contract/admin/get-report.ts';
import { reportDetails } from '#core/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { staffGate } from '#wiring/auth.ts';
import { moderation } from '#wiring/moderation.ts';

export const handler = httpHandler(contract, staffGate).handle(async ({ auth, path }) => ({ body: await reportDetails(moderation(), auth, path.reportId) }));
