// GET /api/users/blocked: the users the caller blocks, paginated.
import { cursors, decodeCursor, encodeCursor } from '#adapters/cursor.ts';
import { listBlocked } from '#adapters/moderation.ts';
import { displayNames } from '#adapters/users.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { listBlocked as contract } from '#contract/moderation/list-blocked.ts';

export const handler = httpHandler(contract).handle(async ({ auth, query }) => {
  const cursor = decodeCursor(query.cursor, cursors.blocked(auth.userId));
  const page = await listBlocked(auth.userId, query.limit ?? 50, cursor);
  const names = await displayNames(page.items.map((i) => i.userId));
  const next = encodeCursor(page.next);
  return {
    body: {
      blocked: page.items.map((i) => ({ ...i, ...(names.has(i.userId) ? { displayName: names.get(i.userId) } : {}) })),
      ...(next ? { cursor: next } : {}),
    },
  };
});
