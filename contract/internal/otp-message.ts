// A one-time code on its way to delivery: what the request path puts on the OTP queue and the
// delivery worker takes off it. Internal (never sent to clients), but a contract all the same: the
// two sides deploy separately, so the worker checks every message against this schema.
import * as z from 'zod/mini';
import { otpChannels, otpPurposes } from '../auth/schemas.ts';

export const otpMessage = z.strictObject({
  /** False: the request path queued it only so that every request costs the same; dropped unread. */
  deliver: z.boolean(),
  channel: z.enum(otpChannels),
  destination: z.string().check(z.minLength(3), z.maxLength(254)),
  purpose: z.enum(otpPurposes),
  code: z.string().check(z.regex(/^\d{6}$/)),
  /** Epoch ms: a code that expired in the queue is dropped, not delivered. */
  expiresAt: z.int(),
});
