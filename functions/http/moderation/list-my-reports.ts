// GET /api/reports/mine: the caller's reports and their status, newest first; no moderator notes.
import { listMyReports as contract } from '#contract/moderation/list-my-reports.ts';
import { listMyReports } from '#core/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { moderation } from '#wiring/moderation.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, query }) => ({
  body: await listMyReports(moderation(), auth.userId, query.limit ?? 50, query.cursor),
}));
