// GET /api/reports/mine: the caller's reports and their status, newest first; no moderator notes.
import { BadRequest } from '#core/errors.ts';
import { reporterView } from '#core/moderation.ts';
import { decodeCursor, encodeCursor, reportsOf } from '#adapters/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { routes } from '#lib/routes.ts';

export const handler = httpHandler(routes.listMyReports, async ({ auth, query }) => {
  const cursor = decodeCursor(query.cursor, (k) => k.pk === `USER#${auth.userId}`);
  if (cursor === 'invalid') throw new BadRequest('Invalid cursor', 'invalid_cursor');
  const page = await reportsOf(auth.userId, 'MYREPORT#', query.limit ?? 50, cursor);
  const next = encodeCursor(page.next);
  return { body: { reports: page.reports.map(reporterView), ...(next ? { cursor: next } : {}) } };
});
