// Whose keys this client trusts: safety numbers (Signal's numeric fingerprint, computed here and
// compared with the server's), and trust on first use: the first identity key seen for a user is
// remembered in a KeyStore; a different one later is an identity change the app must show.
import nacl from 'tweetnacl';
import { concatBytes, fromBase64, utf8 } from './bytes.ts';

/** What a KeyStore remembers per user: public material only. */
export interface TrustedKey {
  userId: string;
  /** The identity key (Ed25519, standard base64) first seen, or last accepted. */
  identityKey: string;
  /** Its 30-digit fingerprint (fingerprint()). */
  fingerprint: string;
  /** ISO time this identity key was first seen. */
  firstSeenAt: string;
  /** The user compared safety numbers with this person (markVerified()); cleared by an identity change. */
  verified: boolean;
}

/** Where trust decisions live: MemoryKeyStore (default), IndexedDbKeyStore (browsers), or the app's own. */
export interface KeyStore {
  get(userId: string): Promise<TrustedKey | undefined>;
  set(key: TrustedKey): Promise<void>;
  delete(userId: string): Promise<void>;
}

/** A user's identity key is not the one this client trusted before: show it; verify the safety number again. */
export interface IdentityChange {
  userId: string;
  previous: TrustedKey;
  identityKey: string;
  fingerprint: string;
  /** The previous key had been verified by the user: the change deserves a louder warning. */
  wasVerified: boolean;
}

export const FINGERPRINT_VERSION = 0;
export const FINGERPRINT_ITERATIONS = 5200;

const memo = new Map<string, string>();

/**
 * The server's 30-digit fingerprint of a user's identity key (functions/core/public-keys.ts), computed
 * here: SHA-512(version ‖ identityKey ‖ userId), then 5200 × SHA-512(hash ‖ identityKey); six 5-byte
 * big-endian groups of the first 30 bytes, each mod 100000. tweetnacl's SHA-512: no WebCrypto needed.
 */
export function fingerprint(userId: string, identityKey: string | Uint8Array): string {
  const key = typeof identityKey === 'string' ? fromBase64(identityKey) : identityKey;
  const id = `${userId}\u0000${Array.from(key).join(',')}`;
  const known = memo.get(id);
  if (known) return known;
  let hash = nacl.hash(concatBytes(new Uint8Array([FINGERPRINT_VERSION >> 8, FINGERPRINT_VERSION & 0xff]), key, utf8(userId)));
  for (let i = 0; i < FINGERPRINT_ITERATIONS; i++) hash = nacl.hash(concatBytes(hash, key));
  const groups: string[] = [];
  for (let i = 0; i < 30; i += 5) {
    let n = 0;
    for (let j = 0; j < 5; j++) n = n * 256 + hash[i + j]!;
    groups.push(String(n % 100000).padStart(5, '0'));
  }
  const result = groups.join(' ');
  if (memo.size > 1000) memo.clear();
  memo.set(id, result);
  return result;
}

/**
 * The safety number two people compare (60 digits, 12 groups): both fingerprints, the smaller first,
 * so both sides see the same number.
 */
export function safetyNumber(a: { userId: string; identityKey: string | Uint8Array }, b: { userId: string; identityKey: string | Uint8Array }): string {
  return [fingerprint(a.userId, a.identityKey), fingerprint(b.userId, b.identityKey)].sort().join(' ');
}
