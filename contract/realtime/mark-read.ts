// markRead
import * as z from 'zod/mini';
import { conversationId, messageId } from '../common.ts';
import { wsContract } from '../route.ts';
import { errorFrame } from './frames.ts';

export const markRead = wsContract({
  id: 'WsMarkRead',
  routeKey: 'markRead',
  access: 'user',
  summary: 'Stores the read position and sends a read receipt to the partner',
  input: z.strictObject({ action: z.literal('markRead'), conversationId, upToMessageId: messageId }),
  output: { error: errorFrame },
});
