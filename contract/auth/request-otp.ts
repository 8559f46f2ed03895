// POST /api/auth/otp/request
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { email, otpAccepted, otpPurposes, phone } from './schemas.ts';

export const requestOtp = httpContract({
  id: 'RequestOtp',
  method: 'POST',
  path: '/api/auth/otp/request',
  access: 'public',
  summary: 'Sends a one-time code by email (SES) or SMS (SNS); same answer for known and unknown destinations',
  input: {
    body: z.discriminatedUnion('channel', [
      z.strictObject({ channel: z.literal('email'), destination: email, purpose: z.enum(otpPurposes) }),
      z.strictObject({ channel: z.literal('sms'), destination: phone, purpose: z.enum(otpPurposes) }),
    ]),
  },
  output: { 202: otpAccepted },
});
