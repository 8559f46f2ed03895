// GET /api/admin/reports?status=&reason=&cursor=: the queue, oldest first, from the byStatus GSI.
import { cursors, decodeCursor, encodeCursor } from '#adapters/cursor.ts';
import { reportQueue } from '#adapters/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { routes } from '#lib/routes.ts';

export const handler = httpHandler(routes.adminListReports, async ({ query }) => {
  const status = query.status ?? 'open';
  const cursor = decodeCursor(query.cursor, cursors.queue(status));
  const page = await reportQueue(status, query.reason, query.limit ?? 50, cursor);
  const next = encodeCursor(page.next);
  return { body: { reports: page.reports, ...(next ? { cursor: next } : {}) } };
});
