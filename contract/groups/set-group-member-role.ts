// PUT /api/groups/{conversationId}/members/{userId}/role
import * as z from 'zod/mini';
import { groupId, userId } from '../common.ts';
import { httpContract } from '../route.ts';
import { groupRoles } from './schemas.ts';

export const setGroupMemberRole = httpContract({
  id: 'SetGroupMemberRole',
  method: 'PUT',
  path: '/api/groups/{conversationId}/members/{userId}/role',
  access: 'user',
  summary: 'Makes a member an admin or a plain member; admins only. The last admin cannot step down (leave instead)',
  input: { path: z.strictObject({ conversationId: groupId, userId }), body: z.strictObject({ role: z.enum(groupRoles) }) },
  output: { 204: null },
});
