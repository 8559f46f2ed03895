// sendMessage: store (idempotent on clientMessageId), then ack the sender while pushing to both sides'
// devices. The frame's session check runs inside the send's first round of reads (foldSessionCheck).
import { sendMessage as contract } from '#contract/realtime/send-message.ts';
import { sendMessage } from '#core/conversations.ts';
import { publishMetrics } from '#middleware/metrics.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { socketGate } from '#wiring/auth.ts';
import { messageSending } from '#wiring/conversations.ts';

export const handler = wsHandler(contract, socketGate)
  .handle(
    async ({ input, userId, connectionId, endpoint, reply, session }) => {
      const { action: _action, to, ...message } = input;
      const caller = session.then((s) => s.user);
      const { ack, delivery } = await sendMessage(messageSending(endpoint), userId, to, message, { senderConnectionId: connectionId, caller });
      await Promise.all([reply({ type: 'ack', ...ack }), delivery]);
    },
    { foldSessionCheck: true },
  )
  .use(publishMetrics());
