// PATCH /api/users/me
import * as z from 'zod/mini';
import { displayName, me } from '../auth/schemas.ts';
import { httpContract } from '../route.ts';

export const updateMe = httpContract({
  id: 'UpdateMe',
  method: 'PATCH',
  path: '/api/users/me',
  access: 'user',
  summary: 'Changes the display name',
  input: { body: z.strictObject({ displayName }) },
  output: { 200: me },
});
