// POST /api/admin/users/{userId}/restore
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { note, sanction, userPath } from './schemas.ts';

export const adminRestoreUser = httpContract({
  id: 'AdminRestoreUser',
  method: 'POST',
  path: '/api/admin/users/{userId}/restore',
  access: 'moderator',
  summary: 'Lifts a suspension, ban or auto-restriction',
  input: { path: userPath, body: z.strictObject({ note }) },
  output: { 200: sanction },
});
