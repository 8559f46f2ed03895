// GET /api/reports/mine: the caller's reports and their status, newest first; no moderator notes.
import { reporterView } from '#core/moderation.ts';
import { cursors, decodeCursor, encodeCursor } from '#adapters/cursor.ts';
import { reportsOf } from '#adapters/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { listMyReports as contract } from '#contract/moderation/list-my-reports.ts';

export const handler = httpHandler(contract).handle(async ({ auth, query }) => {
  const cursor = decodeCursor(query.cursor, cursors.myReports(auth.userId));
  const page = await reportsOf(auth.userId, 'MYREPORT#', query.limit ?? 50, cursor);
  const next = encodeCursor(page.next);
  return { body: { reports: page.reports.map(reporterView), ...(next ? { cursor: next } : {}) } };
});
