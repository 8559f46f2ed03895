// GET /api/users/blocked
import * as z from 'zod/mini';
import { cursor, pageLimit } from '../common.ts';
import { httpContract } from '../route.ts';

export const listBlocked = httpContract({
  id: 'ListBlocked',
  method: 'GET',
  path: '/api/users/blocked',
  access: 'user',
  summary: 'The users the caller blocks, newest first, paginated',
  input: { query: z.strictObject({ cursor, limit: pageLimit(100) }) },
  output: {
    200: z.object({
      blocked: z.array(z.object({ userId: z.string(), displayName: z.optional(z.string()), blockedAt: z.string() })),
      cursor: z.optional(z.string()),
    }),
  },
});
