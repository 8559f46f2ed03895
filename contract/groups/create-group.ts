// POST /api/groups
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { userId } from '../common.ts';
import { groupName } from './schemas.ts';

export const createGroup = httpContract({
  id: 'CreateGroup',
  method: 'POST',
  path: '/api/groups',
  access: 'user',
  userLimit: 'inviteUser',
  summary: 'Creates a group with the caller as its admin and invites everyone in memberIds (they join by accepting)',
  input: { body: z.strictObject({ name: groupName, memberIds: z.array(userId).check(z.maxLength(20, { message: 'At most 20 people per request' })) }) },
  output: { 201: z.object({ conversationId: z.string() }) },
});
