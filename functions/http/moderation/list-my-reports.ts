// GET /api/reports/mine: the caller's reports and their status, newest first; no moderator notes.
import { reporterView } from '#core/moderation.ts';
import { cursors, decodeCursor, encodeCursor } from '#adapters/cursor.ts';
import { reportsOf } from '#adapters/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { routes } from '#lib/routes.ts';

export const handler = httpHandler(routes.listMyReports, async ({ auth, query }) => {
  const cursor = decodeCursor(query.cursor, cursors.myReports(auth.userId));
  const page = await reportsOf(auth.userId, 'MYREPORT#', query.limit ?? 50, cursor);
  const next = encodeCursor(page.next);
  return { body: { reports: page.reports.map(reporterView), ...(next ? { cursor: next } : {}) } };
});
