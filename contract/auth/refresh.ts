// POST /api/auth/refresh
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { tokens } from './schemas.ts';

export const refresh = httpContract({
  id: 'Refresh',
  method: 'POST',
  path: '/api/auth/refresh',
  access: 'public',
  summary: 'Rotates the refresh token (body or cookie); a reused token revokes its whole family',
  /** The refresh token comes in the body (native apps) or the cookie (browsers); the body may be empty. */
  input: { body: z.optional(z.strictObject({ refreshToken: z.optional(z.string().check(z.minLength(1), z.maxLength(4096))) })) },
  output: { 200: tokens },
});
