// GET /api/messages/sync?after=&limit=: everything sent or received after the cursor, in order.
// Streams are gapless per user, so a client that keeps the last cursor sees each message once.
import { syncStream } from '#adapters/messages.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { syncMessages as contract } from '#contract/conversations/sync-messages.ts';

export const handler = httpHandler(contract).handle(async ({ auth, query }) => ({
  body: await syncStream(auth.userId, query.after ?? 0, query.limit ?? 100),
}));
