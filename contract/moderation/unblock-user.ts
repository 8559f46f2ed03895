// DELETE /api/users/{userId}/block
import * as z from 'zod/mini';
import { userId } from '../common.ts';
import { httpContract } from '../route.ts';

export const unblockUser = httpContract({
  id: 'UnblockUser',
  method: 'DELETE',
  path: '/api/users/{userId}/block',
  access: 'user',
  summary: 'Unblocks a user (idempotent); future messages flow again, earlier ones stay undelivered',
  input: { path: z.strictObject({ userId }) },
  output: { 204: null },
});
