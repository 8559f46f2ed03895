// GET /api/admin/audit: the append-only audit log, newest first (admins only).
import { cursors, decodeCursor, encodeCursor } from '#adapters/cursor.ts';
import { listAudit } from '#adapters/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { adminAudit as contract } from '#contract/admin/list-audit.ts';

export const handler = httpHandler(contract).handle(async ({ query }) => {
  const cursor = decodeCursor(query.cursor, cursors.audit());
  const page = await listAudit(query.limit ?? 50, cursor);
  const next = encodeCursor(page.next);
  return { body: { entries: page.entries, ...(next ? { cursor: next } : {}) } };
});
