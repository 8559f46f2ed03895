// POST /api/conversations
import * as z from 'zod/mini';
import { userId } from '../common.ts';
import { httpContract } from '../route.ts';
import { conversation } from './schemas.ts';

export const createConversation = httpContract({
  id: 'CreateConversation',
  method: 'POST',
  path: '/api/conversations',
  access: 'user',
  summary: 'The direct conversation with a user, created once (also under concurrent calls)',
  input: { body: z.strictObject({ userId }) },
  output: { 200: conversation, 201: conversation },
});
