// GET /api/users/search?q=
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';

export const userSummary = z.object({ userId: z.string(), displayName: z.string() });

export const searchUsers = httpContract({
  id: 'SearchUsers',
  method: 'GET',
  path: '/api/users/search',
  access: 'user',
  userLimit: 'searchUser',
  summary: 'Finds people by exact email or phone (only those who opted in: discoverable), or by display-name prefix; public fields only',
  input: { query: z.strictObject({ q: z.string().check(z.trim(), z.minLength(2), z.maxLength(254)) }) },
  output: { 200: z.object({ users: z.array(userSummary) }) },
});
