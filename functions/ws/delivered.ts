// delivered: the recipient's device confirms arrival; stored forward-only and told to the partner.
import { delivered as contract } from '#contract/realtime/delivered.ts';
import { receipt } from '#core/conversations.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { socketGate } from '#wiring/auth.ts';
import { conversations } from '#wiring/conversations.ts';

export const handler = wsHandler(contract, socketGate).handle(async ({ input, userId, endpoint }) => {
  await receipt(conversations(endpoint), 'delivered', userId, input.conversationId, input.upToMessageId);
});
