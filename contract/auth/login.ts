// POST /api/auth/login
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { anyPassword, code, deviceName, email, oneIdentifier, otpAccepted, otpChannels, phone, tokens } from './schemas.ts';

export const otpRequired = z.extend(otpAccepted, { otpRequired: z.literal(true), channel: z.enum(otpChannels) });

export const login = httpContract({
  id: 'Login',
  method: 'POST',
  path: '/api/auth/login',
  access: 'public',
  summary: 'Signs in with a password or an OTP code; 202 asks for the code when OTP is mandatory at login',
  input: {
    body: z
      .strictObject({
        email: z.optional(email),
        phone: z.optional(phone),
        password: z.optional(anyPassword),
        code: z.optional(code),
        deviceName: z.optional(deviceName),
      })
      .check(oneIdentifier),
  },
  output: { 200: tokens, 202: otpRequired },
});
