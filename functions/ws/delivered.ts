// delivered: the recipient's device confirms arrival; stored forward-only and told to the partner.
import { receipt } from '#core/conversations.ts';
import { messagingDeps } from '#adapters/messaging.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { delivered as contract } from '#contract/realtime/delivered.ts';

export const handler = wsHandler(contract).handle(async ({ input, userId }) => {
  await receipt(messagingDeps, 'delivered', userId, input.conversationId, input.upToMessageId);
});
