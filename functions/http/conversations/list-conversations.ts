// GET /api/conversations: the caller's inbox, latest activity first, with unread counts.
import { listConversations as contract } from '#contract/conversations/list-conversations.ts';
import { listConversations } from '#core/conversations.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { conversationReads } from '#wiring/conversations.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, query }) => ({
  body: await listConversations(conversationReads(), auth.userId, query.limit ?? 20, query.cursor),
}));
