// POST /api/users/{userId}/block
import * as z from 'zod/mini';
import { userId } from '../common.ts';
import { httpContract } from '../route.ts';

export const blockUser = httpContract({
  id: 'BlockUser',
  method: 'POST',
  path: '/api/users/{userId}/block',
  access: 'user',
  summary: 'Blocks a user (idempotent): nothing from them reaches you, and they are not told',
  input: { path: z.strictObject({ userId }) },
  output: { 200: z.object({ userId: z.string(), blockedAt: z.string() }) },
});
