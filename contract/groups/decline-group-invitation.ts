// POST /api/groups/{conversationId}/invitations/decline
import * as z from 'zod/mini';
import { groupId } from '../common.ts';
import { httpContract } from '../route.ts';

export const declineGroupInvitation = httpContract({
  id: 'DeclineGroupInvitation',
  method: 'POST',
  path: '/api/groups/{conversationId}/invitations/decline',
  access: 'user',
  summary: 'Declines an invitation (the inviter is not told)',
  input: { path: z.strictObject({ conversationId: groupId }) },
  output: { 204: null },
});
