// typing: an ephemeral event to the conversation partner; nothing is stored.
import { typing as contract } from '#contract/realtime/typing.ts';
import { typing } from '#core/conversations.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { socketGate } from '#wiring/auth.ts';
import { conversations } from '#wiring/conversations.ts';

export const handler = wsHandler(contract, socketGate).handle(async ({ input, userId, endpoint }) => {
  await typing(conversations(endpoint), userId, input.to);
});
