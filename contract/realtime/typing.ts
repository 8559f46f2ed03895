// typing
import * as z from 'zod/mini';
import { userId } from '../common.ts';
import { wsContract } from '../route.ts';
import { errorFrame } from './frames.ts';

export const typing = wsContract({
  id: 'WsTyping',
  routeKey: 'typing',
  access: 'user',
  summary: 'Tells the conversation partner that the caller is typing (ephemeral)',
  input: z.strictObject({ action: z.literal('typing'), to: userId }),
  output: { error: errorFrame },
});
