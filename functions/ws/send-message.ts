// sendMessage: store (idempotent on clientMessageId), push to both sides' devices, ack the sender.
import { sendMessage } from '#core/conversations.ts';
import { messagingDeps } from '#adapters/messaging.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { sendMessage as contract } from '#contract/realtime/send-message.ts';

export const handler = wsHandler(contract).handle(async ({ input, userId, connectionId, reply }) => {
  const { action: _action, to, ...message } = input;
  const { ack } = await sendMessage(messagingDeps, userId, to, message, connectionId);
  await reply({ type: 'ack', ...ack });
});
