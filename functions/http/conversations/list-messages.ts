// GET /api/conversations/{conversationId}/messages?before=&limit=: ciphertext history for members.
import { listMessages as contract } from '#contract/conversations/list-messages.ts';
import { history } from '#core/conversations.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { conversationReads } from '#wiring/conversations.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, path, query }) => ({
  body: await history(conversationReads(), auth.userId, path.conversationId, query.before, query.limit),
}));
