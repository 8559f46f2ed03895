// POST /api/groups/{conversationId}/invitations/accept
import * as z from 'zod/mini';
import { groupId } from '../common.ts';
import { httpContract } from '../route.ts';

export const acceptGroupInvitation = httpContract({
  id: 'AcceptGroupInvitation',
  method: 'POST',
  path: '/api/groups/{conversationId}/invitations/accept',
  access: 'user',
  summary: 'Joins the group the caller is invited to; history starts now',
  input: { path: z.strictObject({ conversationId: groupId }) },
  output: { 200: z.object({ conversationId: z.string(), joinedAt: z.string() }) },
});
