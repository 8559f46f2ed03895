// POST /api/auth/password
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { anyPassword, code, me, newPassword } from './schemas.ts';

export const changePassword = httpContract({
  id: 'ChangePassword',
  method: 'POST',
  path: '/api/auth/password',
  access: 'user',
  summary: 'Sets a new password (proving the current one, or an OTP for passwordless accounts); revokes every other session',
  input: { body: z.strictObject({ currentPassword: z.optional(anyPassword), newPassword, code: z.optional(code) }) },
  output: { 200: me },
});
