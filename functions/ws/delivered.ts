// delivered: the recipient's device confirms arrival; stored forward-only and told to the partner.
import { receipt } from '#core/conversations.ts';
import { messagingDeps } from '#adapters/messaging.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { routes } from '#lib/routes.ts';

export const handler = wsHandler(routes.delivered, async ({ input, userId }) => {
  await receipt(messagingDeps, 'delivered', userId, input.conversationId, input.upToMessageId);
});
