// POST /api/groups/{conversationId}/members
import * as z from 'zod/mini';
import { groupId } from '../common.ts';
import { httpContract } from '../route.ts';
import { inviteeIds } from './schemas.ts';

export const inviteGroupMembers = httpContract({
  id: 'InviteGroupMembers',
  method: 'POST',
  path: '/api/groups/{conversationId}/members',
  access: 'user',
  userLimit: 'inviteUser',
  summary: 'Invites people to the group; admins only. The answer is the same whoever is invited (unknown, already members, or blocking the caller)',
  input: { path: z.strictObject({ conversationId: groupId }), body: z.strictObject({ userIds: inviteeIds }) },
  output: { 204: null },
});
