// markRead: stores the read position (forward only) and sends a read receipt to the partner.
import { receipt } from '#core/conversations.ts';
import { messagingDeps } from '#adapters/messaging.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { markRead as contract } from '#contract/realtime/mark-read.ts';

export const handler = wsHandler(contract).handle(async ({ input, userId }) => {
  await receipt(messagingDeps, 'read', userId, input.conversationId, input.upToMessageId);
});
