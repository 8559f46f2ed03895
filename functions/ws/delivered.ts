// delivered: the recipient's device confirms arrival; stored forward-only and told to the partner, or,
// in a group, to the other current members (core/group-signals.ts).
import { delivered as contract } from '#contract/realtime/delivered.ts';
import { receipt } from '#core/conversations.ts';
import { groupReceipt, isGroupId } from '#core/group-signals.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { socketGate } from '#wiring/auth.ts';
import { conversations } from '#wiring/conversations.ts';
import { groupSignaling } from '#wiring/group-signals.ts';

export const handler = wsHandler(contract, socketGate).handle(async ({ input, userId, endpoint }) => {
  if (isGroupId(input.conversationId)) await groupReceipt(groupSignaling(endpoint), 'delivered', userId, input.conversationId, input.upToMessageId);
  else await receipt(conversations(endpoint), 'delivered', userId, input.conversationId, input.upToMessageId);
});
