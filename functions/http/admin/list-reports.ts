// GET /api/admin/reports?status=&reason=&cursor=: the queue, oldest first, from the byStatus GSI.
import { adminListReports as contract } from '#contract/admin/list-reports.ts';
import { reportQueue } from '#core/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { staffGate } from '#wiring/auth.ts';
import { moderation } from '#wiring/moderation.ts';

export const handler = httpHandler(contract, staffGate).handle(async ({ auth, query }) => ({ body: await reportQueue(moderation(), auth, query) }));
