// POST /api/groups/{conversationId}/leave
import * as z from 'zod/mini';
import { groupId } from '../common.ts';
import { httpContract } from '../route.ts';

export const leaveGroup = httpContract({
  id: 'LeaveGroup',
  method: 'POST',
  path: '/api/groups/{conversationId}/leave',
  access: 'user',
  summary: 'Leaves the group; when the last admin leaves, the longest-standing member becomes admin',
  input: { path: z.strictObject({ conversationId: groupId }) },
  output: { 204: null },
});
