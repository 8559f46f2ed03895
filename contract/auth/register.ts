// POST /api/auth/register
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { code, deviceName, displayName, email, newPassword, oneIdentifier, phone, tokens } from './schemas.ts';

export const register = httpContract({
  id: 'Register',
  method: 'POST',
  path: '/api/auth/register',
  access: 'public',
  summary: 'Creates an account (email or phone, display name, optional password; OTP code when required)',
  input: {
    body: z
      .strictObject({
        email: z.optional(email),
        phone: z.optional(phone),
        displayName,
        password: z.optional(newPassword),
        code: z.optional(code),
        deviceName: z.optional(deviceName),
      })
      .check(oneIdentifier),
  },
  output: { 201: tokens },
});
