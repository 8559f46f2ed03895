// sendMessage: store (idempotent on clientMessageId), push to both sides' devices, ack the sender.
import { sendMessage as contract } from '#contract/realtime/send-message.ts';
import { sendMessage } from '#core/conversations.ts';
import { publishMetrics } from '#middleware/metrics.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { socketGate } from '#wiring/auth.ts';
import { messageSending } from '#wiring/conversations.ts';

export const handler = wsHandler(contract, socketGate)
  .handle(async ({ input, userId, connectionId, endpoint, reply }) => {
    const { action: _action, to, ...message } = input;
    const { ack } = await sendMessage(messageSending(endpoint), userId, to, message, connectionId);
    await reply({ type: 'ack', ...ack });
  })
  .use(publishMetrics());
