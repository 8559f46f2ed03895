// PATCH /api/groups/{conversationId}
import * as z from 'zod/mini';
import { groupId } from '../common.ts';
import { httpContract } from '../route.ts';
import { groupName } from './schemas.ts';

export const renameGroup = httpContract({
  id: 'RenameGroup',
  method: 'PATCH',
  path: '/api/groups/{conversationId}',
  access: 'user',
  summary: 'Renames the group; admins only',
  input: { path: z.strictObject({ conversationId: groupId }), body: z.strictObject({ name: groupName }) },
  output: { 200: z.object({ conversationId: z.string(), name: z.string() }) },
});
