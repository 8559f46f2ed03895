// POST /api/admin/users/{userId}/suspend
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { hours, note, sanction, userPath } from './schemas.ts';

export const adminSuspendUser = httpContract({
  id: 'AdminSuspendUser',
  method: 'POST',
  path: '/api/admin/users/{userId}/suspend',
  access: 'moderator',
  summary: 'Suspends an account for durationHours, at once: sessions revoked, sockets closed',
  input: { path: userPath, body: z.strictObject({ durationHours: hours, note }) },
  output: { 200: sanction },
});
