// sendMessage: store (idempotent on clientMessageId), then ack the sender while pushing to both sides'
// devices. The frame's session check runs on the send's own first round of reads (sessionCheck: 'handler').
import { sendMessage as contract } from '#contract/realtime/send-message.ts';
import { sendMessage } from '#core/conversations.ts';
import { publishMetrics } from '#middleware/metrics.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { socketGate } from '#wiring/auth.ts';
import { messageSending } from '#wiring/conversations.ts';

export const handler = wsHandler(contract, socketGate)
  .handle(
    async ({ input, userId, sessionId, connectionId, endpoint, reply, checkSession, admitted }) => {
      const { action: _action, to, ...message } = input;
      const { ack, delivery } = await sendMessage(messageSending(endpoint), userId, to, message, {
        senderConnectionId: connectionId,
        session: { sessionId: sessionId!, check: checkSession },
        admitted,
      });
      await Promise.all([reply({ type: 'ack', ...ack }), delivery]);
    },
    { sessionCheck: 'handler' },
  )
  .use(publishMetrics());
