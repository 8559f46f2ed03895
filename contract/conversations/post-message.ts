// POST /api/conversations/{conversationId}/messages
import * as z from 'zod/mini';
import { directConversationId } from '../common.ts';
import { httpContract } from '../route.ts';
import { ack, messageInput } from './schemas.ts';

export const postMessage = httpContract({
  id: 'PostMessage',
  method: 'POST',
  path: '/api/conversations/{conversationId}/messages',
  access: 'user',
  userLimit: 'sendUser',
  summary: 'Sends like the sendMessage action (same idempotency) for clients without a socket',
  input: { path: z.strictObject({ conversationId: directConversationId }), body: messageInput },
  output: { 200: ack, 201: ack },
});
