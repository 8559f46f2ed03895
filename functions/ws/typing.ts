// typing: an ephemeral event to the conversation partner; nothing is stored.
import { typing } from '#core/conversations.ts';
import { messagingDeps } from '#adapters/messaging.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { typing as contract } from '#contract/realtime/typing.ts';

export const handler = wsHandler(contract).handle(async ({ input, userId }) => {
  await typing(messagingDeps, userId, input.to);
});
