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
  summary: 'Everything sent or received after a cursor, in order, exactly once across reconnects',
  input: { query: z.strictObject({ after: z.optional(z.coerce.number().check(z.int(), z.minimum(0))), limit: pageLimit(100) }) },
  output: { 200: z.object({ messages: z.array(z.extend(message, { seq: z.int() })), cursor: z.int(), hasMore: z.boolean() }) },
});
