// POST /api/conversations/{conversationId}/messages: sendMessage for clients without a socket.
// 201 for a new message, 200 with the same ack for a retry of the same clientMessageId.
import { sendToConversation } from '#core/conversations.ts';
import { messagingDeps } from '#adapters/messaging.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { postMessage as contract } from '#contract/conversations/post-message.ts';

export const handler = httpHandler(contract).handle(async ({ auth, path, body }) => {
  const { ack, duplicate } = await sendToConversation(messagingDeps, auth.userId, path.conversationId, body);
  return { statusCode: duplicate ? 200 : 201, body: ack };
});
