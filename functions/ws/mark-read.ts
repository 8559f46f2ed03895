// markRead: stores the read position (forward only) and sends a read receipt to the partner.
import { markRead as contract } from '#contract/realtime/mark-read.ts';
import { receipt } from '#core/conversations.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { socketGate } from '#wiring/auth.ts';
import { conversations } from '#wiring/conversations.ts';

export const handler = wsHandler(contract, socketGate).handle(async ({ input, userId, endpoint }) => {
  await receipt(conversations(endpoint), 'read', userId, input.conversationId, input.upToMessageId);
});
