// POST /api/conversations/{conversationId}/messages: sendMessage for clients without a socket.
// 201 for a new message, 200 with the same ack for a retry of the same clientMessageId.
import { postMessage as contract } from '#contract/conversations/post-message.ts';
import { sendToConversation } from '#core/conversations.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { publishMetrics } from '#middleware/metrics.ts';
import { httpGate } from '#wiring/auth.ts';
import { messageSending } from '#wiring/conversations.ts';

export const handler = httpHandler(contract, httpGate)
  .handle(async ({ auth, path, body }) => {
    const { ack, duplicate, delivery } = await sendToConversation(messageSending(), auth.userId, path.conversationId, body);
    await delivery; // a Lambda must not return with pushes in flight; a failed push never fails the send
    return { statusCode: duplicate ? 200 : 201, body: ack };
  })
  .use(publishMetrics());
