// GET /api/messages/sync?after=&limit=: everything sent or received after the cursor, in order.
// Streams are gapless per user, so a client that keeps the last cursor sees each message once.
import { syncStream } from '#adapters/messages.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { routes } from '#lib/routes.ts';

export const handler = httpHandler(routes.syncMessages, async ({ auth, query }) => ({
  body: await syncStream(auth.userId, query.after ?? 0, query.limit ?? 100),
}));
