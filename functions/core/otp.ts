// One-time codes: 6 digits from a CSPRNG, stored only as an HMAC (secret pepper) bound to purpose,
// channel and destination. The state machine (expiry, attempts, single use) lives in the challenge
// store; this module holds the pure parts.
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** register: new account; login: passwordless sign-in; password: set a first password; reset: forgotten password. */
export const otpPurposes = ['register', 'login', 'password', 'reset'] as const;
export type OtpPurpose = (typeof otpPurposes)[number];
export type OtpChannel = 'email' | 'sms';

export const emailSchema = z
  .email({ message: 'Invalid email address' })
  .max(254)
  .transform((v) => v.trim().toLowerCase());
/** E.164: a plus, then up to 15 digits, no leading zero. */
export const phoneSchema = z.string().regex(/^\+[1-9]\d{6,14}$/, { message: 'Phone numbers are E.164, e.g. +14155550123' });
export const codeSchema = z.string().regex(/^\d{6}$/, { message: 'A code is 6 digits' });

export function generateCode(): string {
  return randomInt(0, 1_000_000).toString().padStart(6, '0');
}

export function codeDigest(pepper: Uint8Array, purpose: OtpPurpose, channel: OtpChannel, destination: string, code: string): string {
  return createHmac('sha256', pepper).update(`otp\u0000${purpose}\u0000${channel}\u0000${destination}\u0000${code}`).digest('base64url');
}

export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Stable, non-reversible key for a destination in rate-limit and challenge keys. */
export function destinationKey(pepper: Uint8Array, channel: OtpChannel, destination: string): string {
  return createHmac('sha256', pepper).update(`dest\u0000${channel}\u0000${destination}`).digest('base64url').slice(0, 32);
}
