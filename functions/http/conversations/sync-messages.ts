// GET /api/messages/sync?after=&limit=: the caller's delivery queue after the cursor, oldest first.
// A client that keeps the last cursor sees each message delivered to it once (core/message-rules.ts).
import { syncMessages as contract } from '#contract/conversations/sync-messages.ts';
import { sync } from '#core/conversations.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { conversationReads } from '#wiring/conversations.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, query }) => ({
  body: await sync(conversationReads(), auth.userId, query.after, query.limit),
}));
