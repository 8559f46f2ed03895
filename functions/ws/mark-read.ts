// markRead: stores the read position (forward only) and sends a read receipt to the partner, or, in a
// group, to the other current members (core/group-signals.ts).
import { markRead as contract } from '#contract/realtime/mark-read.ts';
import { receipt } from '#core/conversations.ts';
import { groupReceipt, isGroupId } from '#core/group-signals.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { socketGate } from '#wiring/auth.ts';
import { conversations } from '#wiring/conversations.ts';
import { groupSignaling } from '#wiring/group-signals.ts';

export const handler = wsHandler(contract, socketGate).handle(async ({ input, userId, endpoint }) => {
  if (isGroupId(input.conversationId)) await groupReceipt(groupSignaling(endpoint), 'read', userId, input.conversationId, input.upToMessageId);
  else await receipt(conversations(endpoint), 'read', userId, input.conversationId, input.upToMessageId);
});
