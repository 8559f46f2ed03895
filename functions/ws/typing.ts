// typing: an ephemeral event to the conversation partner, or to a group's other members; nothing is stored.
import { typing as contract } from '#contract/realtime/typing.ts';
import { typing } from '#core/conversations.ts';
import { groupTyping } from '#core/group-signals.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { socketGate } from '#wiring/auth.ts';
import { conversations } from '#wiring/conversations.ts';
import { groupSignaling } from '#wiring/group-signals.ts';

export const handler = wsHandler(contract, socketGate).handle(async ({ input, userId, endpoint }) => {
  if ('to' in input) await typing(conversations(endpoint), userId, input.to);
  else await groupTyping(groupSignaling(endpoint), userId, input.conversationId);
});
