// GET /api/messages/sync
import * as z from 'zod/mini';
import { pageLimit } from '../common.ts';
import { httpContract } from '../route.ts';
import { message } from './schemas.ts';

export const syncMessages = httpContract({
  id: 'SyncMessages',
  method: 'GET',
  path: '/api/messages/sync',
  access: 'user',
  summary:
    'Every message delivered to the caller after a cursor (absent: from the start), oldest first, exactly once along a chain of cursors; ' +
    "the caller's own sent messages are in each conversation's history, not here",
  input: {
    query: z.strictObject({
      // a settled position and the ids after it already returned, 26 characters each (see core/message-rules.ts)
      after: z.optional(z.string().check(z.maxLength(26 * 201), z.regex(/^([0-9A-HJKMNP-TV-Z]{26})*$/))),
      limit: pageLimit(100),
    }),
  },
  output: { 200: z.object({ messages: z.array(message), cursor: z.string(), hasMore: z.boolean() }) },
});
