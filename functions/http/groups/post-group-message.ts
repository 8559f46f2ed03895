// POST /api/groups/{conversationId}/messages: a group send for clients without a socket (201 new,
// 200 the same ack for a retry of the same clientMessageId, 409 members_changed for a stale member set).
import { postGroupMessage as contract } from '#contract/groups/post-group-message.ts';
import { sendGroupMessage } from '#core/group-send.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { publishMetrics } from '#middleware/metrics.ts';
import { httpGate } from '#wiring/auth.ts';
import { groupSending } from '#wiring/groups.ts';

export const handler = httpHandler(contract, httpGate)
  .handle(async ({ auth, path, body }) => {
    const { ack, duplicate, delivery } = await sendGroupMessage(groupSending(), auth.userId, path.conversationId, body);
    await delivery; // a Lambda must not return with pushes in flight; a failed push never fails the send
    return { statusCode: duplicate ? 200 : 201, body: ack };
  })
  .use(publishMetrics());
