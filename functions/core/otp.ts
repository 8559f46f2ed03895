// One-time codes: 6 digits from a CSPRNG, stored only as an HMAC (secret pepper) bound to purpose,
// channel and destination. The state machine (expiry, attempts, single use) lives in the challenge
// store; this module holds the pure parts.
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { OtpChannel, OtpPurpose } from '#contract/auth/schemas.ts';

export type { OtpChannel, OtpPurpose };

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

/** The text of a code message (email body or SMS). */
export function otpText(m: { code: string; expiresAt: number }, now: number): string {
  const minutes = Math.max(1, Math.round((m.expiresAt - now) / 60_000));
  return `Your NexChat code is ${m.code}. It expires in ${minutes} minutes. Never share it with anyone.`;
}
