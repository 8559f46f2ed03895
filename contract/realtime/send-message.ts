// sendMessage
import * as z from 'zod/mini';
import { directConversationId, groupId, userId } from '../common.ts';
import { ack, messageFields } from '../conversations/schemas.ts';
import { groupMessageFields } from '../groups/schemas.ts';
import { wsContract } from '../route.ts';
import { errorFrame } from './frames.ts';

export const sendMessage = wsContract({
  id: 'WsSendMessage',
  routeKey: 'sendMessage',
  access: 'user',
  userLimit: 'sendUser',
  summary:
    'Stores a ciphertext message (idempotent on clientMessageId), pushes it to every device of the members, acks the sender. ' +
    'A direct message names `to`, or the direct conversation\'s `conversationId` (dm_…, the caller must be a member); a group message names ' +
    'its `conversationId` (gr_…) and carries `keys`, one wrapped message key per current member ' +
    '(the sender included); a stale member set gets an error frame `members_changed` with the current members and key versions in details',
  input: z.union([
    z.strictObject({ action: z.literal('sendMessage'), to: userId, ...messageFields }),
    z.strictObject({ action: z.literal('sendMessage'), conversationId: directConversationId, ...messageFields }),
    z.strictObject({ action: z.literal('sendMessage'), conversationId: groupId, ...groupMessageFields }),
  ]),
  output: { ack: z.extend(ack, { type: z.literal('ack') }), error: errorFrame },
});
