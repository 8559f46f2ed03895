// GET /api/conversations
import * as z from 'zod/mini';
import { cursor, pageLimit } from '../common.ts';
import { httpContract } from '../route.ts';
import { conversation } from './schemas.ts';

export const listConversations = httpContract({
  id: 'ListConversations',
  method: 'GET',
  path: '/api/conversations',
  access: 'user',
  summary: "The caller's conversations, latest activity first, with last-message metadata and unread counts",
  input: { query: z.strictObject({ cursor, limit: pageLimit(50) }) },
  output: { 200: z.object({ conversations: z.array(conversation), cursor: z.optional(z.string()) }) },
});
