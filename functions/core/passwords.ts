// Password hashing: scrypt (N=2^17, r=8, p=1 by default) with a unique 32-byte salt, verified in
// constant time. The most common passwords are refused. Passwords are compared exactly as given
// (no trimming or case folding), and only their length is validated.
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { commonPasswordSet } from './common-passwords.data.ts';

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

let common: Uint32Array | undefined;

/** The filter's hash of a lower-cased password: the first 48 bits of its SHA-256, as an exact integer. */
export function commonPasswordDigest(key: string): number {
  return createHash('sha256').update(key).digest().readUIntBE(0, 6);
}

/** Rice-decodes the set once: each gap is a unary quotient (1s ended by a 0) and a riceBits-bit remainder. */
function decodeCommonPasswords(): Uint32Array {
  const { count, riceBits, file, sha256 } = commonPasswordSet;
  // next to this module in the source tree, next to index.mjs in a Lambda bundle (see lib/routes.ts `files`)
  const bytes = readFileSync(new URL(`./${file}`, import.meta.url));
  if (createHash('sha256').update(bytes).digest('hex') !== sha256) throw new Error(`${file} does not match common-passwords.data.ts`);
  const hashes = new Uint32Array(count);
  let bit = 0;
  const next = (): number => ((bytes[bit >> 3] ?? 0) >> (7 - (bit++ & 7))) & 1;
  let value = 0;
  for (let i = 0; i < count; i++) {
    while (next()) value += 2 ** riceBits;
    for (let j = riceBits - 1; j >= 0; j--) value += next() * 2 ** j;
    hashes[i] = value;
  }
  return hashes;
}

/**
 * True for passwords found, in any letter case, in the zxcvbn-ts list of the most common ones, and for
 * about 0.3% of other passwords: the list ships as a 22 KB Golomb-coded set (common-passwords.gcs,
 * described in common-passwords.data.ts), read and decoded on first use, never at cold start. The set holds only the entries of `minLength`
 * (8) or more characters, as the schema refuses shorter passwords first; shorter ones answer false.
 */
export function isCommonPassword(password: string): boolean {
  const key = password.toLowerCase();
  if (key.length < commonPasswordSet.minLength) return false;
  common ??= decodeCommonPasswords();
  const target = commonPasswordDigest(key) % commonPasswordSet.range;
  let low = 0;
  let high = common.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (common[mid]! < target) low = mid + 1;
    else high = mid;
  }
  return common[low] === target;
}
