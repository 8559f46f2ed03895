// Builds functions/core/common-passwords.data.ts: the zxcvbn-ts common-password list (a devDependency),
// reduced to the entries a new password can equal, as a Golomb-coded set small enough to bundle into
// every Lambda that checks passwords. Run `node bin/build-password-filter.ts` after upgrading
// @zxcvbn-ts/language-common; tests/unit/common-passwords.test.ts fails while the module is stale.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dictionary } from '@zxcvbn-ts/language-common';
import { commonPasswordDigest } from '#core/passwords.ts';

/** The schema's minimum password length: shorter list entries can never be asked about. */
const MIN_LENGTH = 8;
/** Remainder bits per gap. 8 is the best fit for ~10 bits per entry: with 9 the unary part no longer fits. */
const RICE_BITS = 8;
/** base64 characters of data, so that data and decoder add under 30,000 bytes to a minified bundle. */
const BUDGET = 29_350;
/** The false-positive rate the data module promises and the unit test holds it to. */
const FALSE_POSITIVE_BOUND = 0.0035;
const RANDOM_SAMPLES = 1_000_000;
const REAL_LOOKING_SAMPLES = 500_000;

const OUTPUT = new URL('../functions/core/common-passwords.data.ts', import.meta.url);
/** The set's bytes: shipped next to the bundle of the routes that check new passwords, read on first use. */
const DATA_FILE = new URL('../functions/core/common-passwords.gcs', import.meta.url);

export interface CommonPasswordSet {
  minLength: number;
  /** Distinct hashes in the set (a few entries collide). */
  count: number;
  /** Hashes fall in [0, range): range = entries × ~1/false-positive rate. */
  range: number;
  riceBits: number;
  falsePositiveBound: number;
  data: string;
}

/** The list entries a new password can equal, lower-cased (as the lookup key is), each once. */
export function listedKeys(list: readonly string[]): string[] {
  return [...new Set(list.map((p) => p.toLowerCase()).filter((p) => p.length >= MIN_LENGTH))];
}

/** The distinct values of the digests mapped into [0, range), ascending. */
function sortedHashes(digests: readonly number[], range: number): Float64Array {
  const hashes = Float64Array.from(digests, (d) => d % range).sort();
  return hashes.filter((hash, i) => hash !== hashes[i - 1]);
}

/** Rice code length: per gap, its quotient in unary (1s ended by a 0) and its RICE_BITS-bit remainder. */
function codedBits(hashes: Float64Array): number {
  let bits = 0;
  for (let i = 0; i < hashes.length; i++) bits += Math.floor((hashes[i]! - (hashes[i - 1] ?? 0)) / 2 ** RICE_BITS) + 1 + RICE_BITS;
  return bits;
}

/** Rice-codes the gaps between the sorted hashes, remainder bits most significant first. */
function encode(hashes: Float64Array, range: number): CommonPasswordSet {
  const bytes: number[] = [];
  let byte = 0;
  let used = 0;
  const put = (bit: number): void => {
    byte = (byte << 1) | bit;
    if (++used === 8) {
      bytes.push(byte);
      byte = 0;
      used = 0;
    }
  };
  let previous = 0;
  for (const hash of hashes) {
    const gap = hash - previous;
    previous = hash;
    for (let q = Math.floor(gap / 2 ** RICE_BITS); q > 0; q--) put(1);
    put(0);
    for (let j = RICE_BITS - 1; j >= 0; j--) put(Math.floor(gap / 2 ** j) % 2);
  }
  if (used > 0) bytes.push(byte << (8 - used));
  const data = Buffer.from(bytes).toString('base64');
  return { minLength: MIN_LENGTH, count: hashes.length, range, riceBits: RICE_BITS, falsePositiveBound: FALSE_POSITIVE_BOUND, data };
}

/**
 * Maps each entry's digest into [0, entries × inverseRate), so that a password outside the list hits a
 * stored value with probability ~1/inverseRate, and takes the largest inverse rate in
 * (2^RICE_BITS, 2^(RICE_BITS+1)] whose code fits the budget: the lowest false-positive rate we can afford.
 */
export function buildCommonPasswordSet(list: readonly string[]): CommonPasswordSet {
  const digests = listedKeys(list).map(commonPasswordDigest);
  for (let inverseRate = 2 ** (RICE_BITS + 1); inverseRate > 2 ** RICE_BITS; inverseRate--) {
    const range = digests.length * inverseRate;
    if (range > 2 ** 32) throw new Error('the decoder keeps hashes in a Uint32Array: the range must stay under 2^32');
    const hashes = sortedHashes(digests, range);
    if (Math.ceil(Math.ceil(codedBits(hashes) / 8) / 3) * 4 <= BUDGET) return encode(hashes, range);
  }
  throw new Error(`${digests.length} passwords do not fit in ${BUDGET} base64 characters with ${RICE_BITS}-bit remainders: lower RICE_BITS`);
}

/** mulberry32: a fixed-seed PRNG, so that measurements and tests repeat exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const PRINTABLE = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join('');

/** A strong-looking password: `length` characters drawn uniformly from the 94 printable ASCII ones. */
export function randomPassword(random: () => number, length: number): string {
  let password = '';
  for (let i = 0; i < length; i++) password += PRINTABLE[Math.floor(random() * PRINTABLE.length)];
  return password;
}

/** Passwords people actually pick but the list lacks: word pairs, words with digits or years, listed ones with suffixes, leetspeak. */
function realLookingPassword(random: () => number, listed: readonly string[], words: readonly string[]): string {
  const pick = <T>(items: ArrayLike<T>): T => items[Math.floor(random() * items.length)]!;
  const digits = (n: number): string => Array.from({ length: n }, () => pick('0123456789')).join('');
  const word = pick(words);
  switch (Math.floor(random() * 5)) {
    case 0:
      return word + pick(words);
    case 1:
      return word[0]!.toUpperCase() + word.slice(1) + digits(2 + Math.floor(random() * 3));
    case 2:
      return word + pick('!@#$%&*?._-') + (1950 + Math.floor(random() * 76));
    case 3:
      return pick(listed) + Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick('0123456789!@#$?.')).join('');
    default:
      return pick(listed).replace(/[aeios]/g, (c) => ({ a: '@', e: '3', i: '1', o: '0', s: '$' })[c]!) + digits(1);
  }
}

function measure(set: CommonPasswordSet, keys: readonly string[]): { random: number; realLooking: number } {
  const stored = new Set(keys.map((k) => commonPasswordDigest(k) % set.range));
  const hits = (password: string): boolean => stored.has(commonPasswordDigest(password.toLowerCase()) % set.range);
  const random = seededRandom(0x5eed);
  let falsePositives = 0;
  for (let i = 0; i < RANDOM_SAMPLES; i++) if (hits(randomPassword(random, 12 + Math.floor(random() * 5)))) falsePositives++;
  const listed = new Set(keys);
  const all = dictionary['passwords-common'];
  const words = dictionary['diceware-common'];
  let realFalsePositives = 0;
  for (let tried = 0; tried < REAL_LOOKING_SAMPLES;) {
    const password = realLookingPassword(random, all, words);
    if (password.length < MIN_LENGTH || listed.has(password.toLowerCase())) continue;
    tried++;
    if (hits(password)) realFalsePositives++;
  }
  return { random: falsePositives / RANDOM_SAMPLES, realLooking: realFalsePositives / REAL_LOOKING_SAMPLES };
}

const percent = (rate: number): string => `${(rate * 100).toFixed(3)}%`;
const thousands = (n: number): string => n.toLocaleString('en-US');

function render(set: CommonPasswordSet, keys: readonly string[], rates: { random: number; realLooking: number }): string {
  const version = (JSON.parse(readFileSync(new URL(import.meta.resolve('@zxcvbn-ts/language-common/package.json')), 'utf8')) as { version: string }).version;
  const total = dictionary['passwords-common'].length;
  const inverseRate = set.range / keys.length;
  const bits = Buffer.from(set.data, 'base64').length * 8;
  const bloomK = Math.max(1, Math.round((bits / keys.length) * Math.LN2));
  const bloomRate = (1 - Math.exp((-bloomK * keys.length) / bits)) ** bloomK;
  const digest = createHash('sha256').update(Buffer.from(set.data, 'base64')).digest('hex');
  return `// GENERATED by \`node bin/build-password-filter.ts\`: do not edit.
// Source: @zxcvbn-ts/language-common ${version}, dictionary['passwords-common']: the ${thousands(keys.length)} of ${thousands(total)}
// entries with ${MIN_LENGTH} or more characters (the schema refuses shorter passwords first), lower-cased.
// Structure: a Golomb-coded set, one hash per entry (k = 1): the first 48 bits of SHA-256(entry) modulo
// range = n × ${inverseRate}, the ${thousands(set.count)} distinct values sorted and their gaps Rice-coded with ${set.riceBits}-bit remainders.
// n = ${thousands(keys.length)}, bits = ${thousands(bits)} (${(bits / keys.length).toFixed(2)} per entry): the ${thousands(bits / 8)} bytes of common-passwords.gcs,
// shipped next to the bundle of each route that checks new passwords and read on first use (not at cold start).
// False-positive rate: 1/${inverseRate} = ${percent(1 / inverseRate)} expected; measured ${percent(rates.random)} over ${thousands(RANDOM_SAMPLES)} random
// 12-16-character printable passwords and ${percent(rates.realLooking)} over ${thousands(REAL_LOOKING_SAMPLES)} real-looking unlisted ones
// (word pairs, words with digits or years, listed passwords with suffixes, leetspeak); bound ${percent(set.falsePositiveBound)}.
// Why not a Bloom filter: in the same ${thousands(bits)} bits, one with the best k = ${bloomK} lets through ${percent(bloomRate)},
// ~${(bloomRate * inverseRate).toFixed(1)}× as many false positives. The set is decoded once (a sorted Uint32Array) and binary-searched.
export const commonPasswordSet = {
  minLength: ${set.minLength},
  count: ${set.count},
  range: ${set.range},
  riceBits: ${set.riceBits},
  falsePositiveBound: ${set.falsePositiveBound},
  /** The data file's file name and SHA-256, checked when it is read. */
  file: 'common-passwords.gcs',
  sha256: '${digest}',
};
`;
}

if (import.meta.main) {
  const keys = listedKeys(dictionary['passwords-common']);
  const set = buildCommonPasswordSet(dictionary['passwords-common']);
  const rates = measure(set, keys);
  console.log(`n = ${keys.length} (${set.count} distinct hashes), range = ${set.range}, ${set.riceBits}-bit remainders`);
  console.log(`data: ${Buffer.from(set.data, 'base64').length} bytes, ${set.data.length} base64 characters`);
  console.log(
    `false positives: ${percent(rates.random)} of ${RANDOM_SAMPLES} random passwords, ${percent(rates.realLooking)} of ${REAL_LOOKING_SAMPLES} real-looking ones`,
  );
  if (Math.max(rates.random, rates.realLooking) >= set.falsePositiveBound)
    throw new Error(`false-positive rate above the bound ${percent(set.falsePositiveBound)}`);
  writeFileSync(DATA_FILE, Buffer.from(set.data, 'base64'));
  writeFileSync(OUTPUT, render(set, keys, rates));
  console.log(`wrote ${DATA_FILE.pathname} and ${OUTPUT.pathname}`);
}
