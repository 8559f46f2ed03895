// Signing secrets (not users' public keys, see public-keys.ts): key material derived from one
// master secret, separate keys for access tokens, refresh tokens and the OTP pepper (HKDF-SHA256),
// so one secret value rotates them all and no key serves two purposes.
import { hkdfSync } from 'node:crypto';

export interface SecretValue {
  /** Key id written into token headers; a rotation adds a new kid and keeps the previous one. */
  kid: string;
  master: string;
  previous?: { kid: string; master: string };
}

export interface KeySet {
  kid: string;
  accessKey: Uint8Array;
  refreshKey: Uint8Array;
  otpPepper: Uint8Array;
}

export interface AuthKeys {
  current: KeySet;
  /** Verification-only keys by kid (current and, during a rotation, the previous one). */
  byKid: Map<string, KeySet>;
}

function derive(master: string, purpose: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', Buffer.from(master, 'utf8'), Buffer.from('nexchat/v1'), Buffer.from(purpose), 32));
}

function keySet(kid: string, master: string): KeySet {
  if (master.length < 32) throw new Error('auth secret too short: at least 32 characters of entropy required');
  return { kid, accessKey: derive(master, 'access-token'), refreshKey: derive(master, 'refresh-token'), otpPepper: derive(master, 'otp-pepper') };
}

export function deriveKeys(secret: SecretValue): AuthKeys {
  const current = keySet(secret.kid, secret.master);
  const byKid = new Map([[current.kid, current]]);
  if (secret.previous) byKid.set(secret.previous.kid, keySet(secret.previous.kid, secret.previous.master));
  return { current, byKid };
}
