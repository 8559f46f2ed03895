// GET /api/groups/{conversationId}
import * as z from 'zod/mini';
import { groupId } from '../common.ts';
import { httpContract } from '../route.ts';
import { group } from './schemas.ts';

export const getGroup = httpContract({
  id: 'GetGroup',
  method: 'GET',
  path: '/api/groups/{conversationId}',
  access: 'user',
  summary: "The group's name, the caller's role, and its members with roles and current key versions; members only",
  input: { path: z.strictObject({ conversationId: groupId }) },
  output: { 200: group },
});
