// GET /api/conversations/{conversationId}/messages?before=&limit=: ciphertext history for members.
import { requireMember } from '#core/conversations.ts';
import { config } from '#core/config.ts';
import { messagingDeps } from '#adapters/messaging.ts';
import { listMessages } from '#adapters/messages.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { listMessages as contract } from '#contract/conversations/list-messages.ts';

export const handler = httpHandler(contract).handle(async ({ auth, path, query }) => {
  await requireMember(messagingDeps, path.conversationId, auth.userId);
  return { body: await listMessages(path.conversationId, auth.userId, query.before, Math.min(query.limit ?? 50, config.messages.historyPageMax)) };
});
