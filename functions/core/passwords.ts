// Password hashing: scrypt (N=2^17, r=8, p=1 by default) with a unique 32-byte salt, verified in
// constant time. The most common passwords are refused. Passwords are compared exactly as given
// (no trimming or case folding), and only their length is validated.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface PasswordParams {
  log2N: number;
  r: number;
  p: number;
  saltBytes: number;
  keyBytes: number;
}

function scrypt(password: string, salt: Buffer, keyBytes: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** scrypt needs 128 * N * r bytes; Node's default maxmem (32 MiB) is too small for N=2^17. */
const options = (log2N: number, r: number, p: number): ScryptOptions => ({ N: 2 ** log2N, r, p, maxmem: 128 * 2 ** log2N * r + 16 * 1024 * 1024 });

/** Format: scrypt$<log2N>$<r>$<p>$<salt b64url>$<key b64url>; parameters travel with the hash. */
export async function hashPassword(password: string, params: PasswordParams): Promise<string> {
  const salt = randomBytes(params.saltBytes);
  const key = await scrypt(password, salt, params.keyBytes, options(params.log2N, params.r, params.p));
  return ['scrypt', params.log2N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, log2N, r, p, saltText, keyText] = stored.split('$');
  if (scheme !== 'scrypt' || !saltText || !keyText) return false;
  const expected = Buffer.from(keyText, 'base64url');
  const actual = await scrypt(password, Buffer.from(saltText, 'base64url'), expected.length, options(Number(log2N), Number(r), Number(p)));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

let dummy: Promise<string> | undefined;
/** Spends the same scrypt work as a real check, so unknown accounts answer as slowly as known ones. */
export async function burnPasswordCheck(password: string, params: PasswordParams): Promise<false> {
  dummy ??= hashPassword('nexchat-dummy-password', params);
  await verifyPassword(password, await dummy);
  return false;
}

let common: Promise<Set<string>> | undefined;

/**
 * True for passwords found in a list of ~49k most common ones (zxcvbn-ts common dictionary). The
 * list is loaded on first use: routes that never check a new password do not pay for it at cold start.
 */
export async function isCommonPassword(password: string): Promise<boolean> {
  common ??= import('@zxcvbn-ts/language-common').then(
    (m) => new Set(m.dictionary['passwords-common']),
    (error: unknown) => {
      common = undefined; // try again next time instead of failing until the container restarts
      throw error;
    },
  );
  const set = await common;
  return set.has(password) || set.has(password.toLowerCase());
}
