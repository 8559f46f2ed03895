// GET /api/admin/reports?status=&reason=&cursor=: the queue, oldest first, from the byStatus GSI.
import { cursors, decodeCursor, encodeCursor } from '#adapters/cursor.ts';
import { reportQueue } from '#adapters/moderation.ts';
import { rolesOf } from '#adapters/users.ts';
import { visibleInQueue } from '#core/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { adminListReports as contract } from '#contract/admin/list-reports.ts';

export const handler = httpHandler(contract).handle(async ({ auth, query }) => {
  const status = query.status ?? 'open';
  const cursor = decodeCursor(query.cursor, cursors.queue(status));
  const page = await reportQueue(status, query.reason, query.limit ?? 50, cursor);
  // a moderator never sees reports about themselves (or about staff, unless an admin)
  const roles = await rolesOf(page.reports.map((r) => r.targetUserId));
  const reports = page.reports.filter((r) => {
    const role = roles.get(r.targetUserId);
    return visibleInQueue(auth, role ? { userId: r.targetUserId, role } : undefined);
  });
  const next = encodeCursor(page.next);
  return { body: { reports, ...(next ? { cursor: next } : {}) } };
});
