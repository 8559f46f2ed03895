// sendMessage
import * as z from 'zod/mini';
import { userId } from '../common.ts';
import { ack, messageFields } from '../conversations/schemas.ts';
import { wsContract } from '../route.ts';
import { errorFrame } from './frames.ts';

export const sendMessage = wsContract({
  id: 'WsSendMessage',
  routeKey: 'sendMessage',
  access: 'user',
  userLimit: 'sendUser',
  summary: 'Stores a ciphertext message (idempotent on clientMessageId), pushes it to every device of both sides, acks the sender',
  input: z.strictObject({ action: z.literal('sendMessage'), to: userId, ...messageFields }),
  output: { ack: z.extend(ack, { type: z.literal('ack') }), error: errorFrame },
});
