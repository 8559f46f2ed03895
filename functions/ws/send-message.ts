// sendMessage: store (idempotent on clientMessageId), then ack the sender while pushing to the members'
// devices. A frame naming `to`, or a direct conversation's id, is a direct message; one naming a
// group's `conversationId` a group message (core/group-send.ts). The frame's session check runs on the send's own first round of reads
// (sessionCheck: 'handler').
import { sendMessage as contract } from '#contract/realtime/send-message.ts';
import { sendMessage, sendToConversation } from '#core/conversations.ts';
import { sendGroupMessage } from '#core/group-send.ts';
import { publishMetrics } from '#middleware/metrics.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { socketGate } from '#wiring/auth.ts';
import { messageSending } from '#wiring/conversations.ts';
import { groupSending } from '#wiring/groups.ts';

export const handler = wsHandler(contract, socketGate)
  .handle(
    async ({ input, userId, sessionId, connectionId, endpoint, reply, checkSession, admitted }) => {
      const opts = { senderConnectionId: connectionId, session: { sessionId: sessionId!, check: checkSession }, admitted };
      const { ack, delivery } =
        'to' in input
          ? await sendMessage(messageSending(endpoint), userId, input.to, strip(input), opts)
          : 'keys' in input
            ? await sendGroupMessage(groupSending(endpoint), userId, input.conversationId, strip(input), opts)
            : // by the direct conversation's id: one read more (the member item names the peer)
              await sendToConversation(messageSending(endpoint), userId, input.conversationId, strip(input), opts);
      await Promise.all([reply({ type: 'ack', ...ack }), delivery]);
    },
    { sessionCheck: 'handler' },
  )
  .use(publishMetrics());

/** The frame without its routing fields. */
function strip<T extends { action: string }>(input: T) {
  const { action: _action, ...rest } = input;
  const { to: _to, conversationId: _c, ...message } = rest as typeof rest & { to?: string; conversationId?: string };
  return message as Omit<T, 'action' | 'to' | 'conversationId'>;
}
