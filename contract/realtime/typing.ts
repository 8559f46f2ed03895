// typing
import * as z from 'zod/mini';
import { groupId, userId } from '../common.ts';
import { wsContract } from '../route.ts';
import { errorFrame } from './frames.ts';

export const typing = wsContract({
  id: 'WsTyping',
  routeKey: 'typing',
  access: 'user',
  summary:
    'Tells the conversation partner that the caller is typing (ephemeral). A direct conversation names `to`; ' +
    'a group names `conversationId`, and the other current members hear it (never across a block)',
  input: z.union([z.strictObject({ action: z.literal('typing'), to: userId }), z.strictObject({ action: z.literal('typing'), conversationId: groupId })]),
  output: { error: errorFrame },
});
