// POST /api/groups/{conversationId}/messages
import * as z from 'zod/mini';
import { groupId } from '../common.ts';
import { ack } from '../conversations/schemas.ts';
import { httpContract } from '../route.ts';
import { groupMessageInput } from './schemas.ts';

export const postGroupMessage = httpContract({
  id: 'PostGroupMessage',
  method: 'POST',
  path: '/api/groups/{conversationId}/messages',
  access: 'user',
  userLimit: 'sendUser',
  summary:
    'Sends like the sendMessage action with a conversationId (same idempotency) for clients without a socket; ' +
    '409 members_changed (current members and key versions in details) when keys does not cover exactly the current members',
  input: { path: z.strictObject({ conversationId: groupId }), body: groupMessageInput },
  output: { 200: ack, 201: ack },
});
