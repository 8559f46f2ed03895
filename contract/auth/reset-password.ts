// POST /api/auth/password/reset
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { code, email, newPassword, oneIdentifier, phone } from './schemas.ts';

export const resetPassword = httpContract({
  id: 'ResetPassword',
  method: 'POST',
  path: '/api/auth/password/reset',
  access: 'public',
  summary: 'Forgotten password: a "reset" code plus a new password; every session of the account ends',
  input: { body: z.strictObject({ email: z.optional(email), phone: z.optional(phone), code, newPassword }).check(oneIdentifier) },
  output: { 204: null },
});
