// POST /api/admin/users/{userId}/ban
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { note, sanction, userPath } from './schemas.ts';

export const adminBanUser = httpContract({
  id: 'AdminBanUser',
  method: 'POST',
  path: '/api/admin/users/{userId}/ban',
  access: 'moderator',
  summary: 'Bans an account, at once: sessions revoked, sockets closed',
  input: { path: userPath, body: z.strictObject({ note }) },
  output: { 200: sanction },
});
