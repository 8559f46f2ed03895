// DELETE /api/groups/{conversationId}/members/{userId}
import * as z from 'zod/mini';
import { groupId, userId } from '../common.ts';
import { httpContract } from '../route.ts';

export const removeGroupMember = httpContract({
  id: 'RemoveGroupMember',
  method: 'DELETE',
  path: '/api/groups/{conversationId}/members/{userId}',
  access: 'user',
  summary: 'Removes a member (or withdraws an invitation); admins only. The removed member gets nothing sent after this',
  input: { path: z.strictObject({ conversationId: groupId, userId }) },
  output: { 204: null },
});
