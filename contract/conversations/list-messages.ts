// GET /api/conversations/{conversationId}/messages
import * as z from 'zod/mini';
import { conversationId, messageId, pageLimit } from '../common.ts';
import { httpContract } from '../route.ts';
import { message } from './schemas.ts';

export const listMessages = httpContract({
  id: 'ListMessages',
  method: 'GET',
  path: '/api/conversations/{conversationId}/messages',
  access: 'user',
  summary: 'Ciphertext history, newest first, paged by a `before` cursor; members only',
  input: {
    path: z.strictObject({ conversationId }),
    query: z.strictObject({ before: z.optional(messageId), limit: pageLimit(100) }),
  },
  output: { 200: z.object({ messages: z.array(message), before: z.optional(z.string()) }) },
});
