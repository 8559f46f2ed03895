// POST /api/conversations { userId }: the direct conversation with that user (201 when new, 200 after).
import { createConversation as contract } from '#contract/conversations/create-conversation.ts';
import { openConversation } from '#core/conversations.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { conversationOpening } from '#wiring/conversations.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, body }) => {
  const conversation = await openConversation(conversationOpening(), auth.userId, body.userId);
  return {
    statusCode: conversation.created ? 201 : 200,
    body: {
      conversationId: conversation.conversationId,
      kind: 'direct',
      peer: { userId: body.userId, displayName: conversation.peer.displayName },
      createdAt: conversation.createdAt,
      unreadCount: 0,
    },
  };
});
