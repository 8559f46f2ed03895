// delivered
import * as z from 'zod/mini';
import { conversationId, messageId } from '../common.ts';
import { wsContract } from '../route.ts';
import { errorFrame } from './frames.ts';

export const delivered = wsContract({
  id: 'WsDelivered',
  routeKey: 'delivered',
  access: 'user',
  summary: 'Stores the delivered position and sends a delivered receipt to the partner',
  input: z.strictObject({ action: z.literal('delivered'), conversationId, upToMessageId: messageId }),
  output: { error: errorFrame },
});
