// The public-key directory (users' PUBLIC keys; signing secrets are signing-keys.ts): a published
// key set is checked (sizes, the identity key's signature over the box key), versioned (a new key
// set bumps the version, the same one is a no-op), fingerprinted, and announced to partners.
// The server only verifies and stores public keys; it never generates or sees a private key.
import { createHash, createPublicKey, verify } from 'node:crypto';
import type { KeyUpload } from '#contract/public-keys/put-public-key.ts';
import type { PushFrame } from '#contract/realtime/frames.ts';
import { Conflict, Unprocessable, ValidationFailed, type FieldIssue } from './errors.ts';
import type { Clock, ConnectionsPort, KeyRecord, BlocksPort, PartnersPort, PublicKeysPort, SecurityEventsPort } from './ports.ts';
import { reachablePartners } from './conversations.ts';

/** Ed25519 public key, X25519 public key, Ed25519 detached signature. */
export const IDENTITY_KEY_BYTES = 32;
export const BOX_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

export type KeyInput = KeyUpload;

export interface DecodedKeys {
  identityKey: Uint8Array;
  publicKey: Uint8Array;
  signature: Uint8Array;
}

/**
 * Decodes the three fields. The manifest schema already admits only standard base64; here a
 * non-canonical encoding (non-zero padding bits, so two strings for one key) is refused too, and
 * every field must have its exact size. All size problems are reported at once.
 */
export function decodeKeys(input: KeyInput): DecodedKeys {
  const fields = [
    ['identityKey', IDENTITY_KEY_BYTES],
    ['publicKey', BOX_KEY_BYTES],
    ['signature', SIGNATURE_BYTES],
  ] as const;
  const encoding: FieldIssue[] = [];
  const sizes: FieldIssue[] = [];
  const out: Partial<Record<(typeof fields)[number][0], Uint8Array>> = {};
  for (const [field, expected] of fields) {
    const bytes = new Uint8Array(Buffer.from(input[field], 'base64'));
    if (Buffer.from(bytes).toString('base64') !== input[field]) {
      encoding.push({ path: `body.${field}`, message: 'Must be canonical standard base64', code: 'bad_base64' });
      continue;
    }
    if (bytes.length !== expected) {
      sizes.push({ path: `body.${field}`, message: `Must decode to ${expected} bytes, got ${bytes.length}`, code: 'bad_key_size' });
    }
    out[field] = bytes;
  }
  if (encoding.length) throw new ValidationFailed('Invalid body', encoding);
  if (sizes.length) throw new Unprocessable('Key or signature has the wrong size', 'bad_key_size', sizes);
  return out as DecodedKeys;
}

/**
 * Ed25519 verification by Node's own crypto (OpenSSL), the same check clients make with tweetnacl's
 * sign.detached.verify, without bundling a signature library. A key that is not a valid point is
 * simply a signature that does not verify.
 */
function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') }, format: 'jwk' });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** The identity key (Ed25519) must have signed the box key (X25519): that binds the two. */
export function verifyKeys(keys: DecodedKeys): void {
  if (!ed25519Verify(keys.identityKey, keys.publicKey, keys.signature)) {
    throw new Unprocessable('The signature does not verify: the identity key must sign the box key', 'bad_signature');
  }
}

/**
 * A human-comparable fingerprint of a user's identity key, after Signal's numeric "safety number"
 * (libsignal NumericFingerprintGenerator): hash = SHA-512(version ‖ identityKey ‖ userId), then
 * 5200 times hash = SHA-512(hash ‖ identityKey); the first 30 bytes, as six 5-byte big-endian
 * integers each mod 100000, give six groups of five digits ("12345 67890 ..."). The version is a
 * 2-byte 0; the key is the raw 32-byte Ed25519 key; the userId is its UTF-8 text. The iterations
 * make finding another key with the same 30 digits expensive. The box key is not part of it: a
 * box-key rotation under the same identity keeps the fingerprint, an identity change alters it.
 */
export const FINGERPRINT_VERSION = 0;
export const FINGERPRINT_ITERATIONS = 5200;

export function fingerprint(userId: string, identityKey: Uint8Array): string {
  const version = Buffer.alloc(2);
  version.writeUInt16BE(FINGERPRINT_VERSION);
  let hash = createHash('sha512').update(version).update(identityKey).update(userId, 'utf8').digest();
  for (let i = 0; i < FINGERPRINT_ITERATIONS; i++) hash = createHash('sha512').update(hash).update(identityKey).digest();
  const groups: string[] = [];
  for (let i = 0; i < 30; i += 5) groups.push(String(hash.readUIntBE(i, 5) % 100000).padStart(5, '0'));
  return groups.join(' ');
}

export const fingerprintPattern = /^\d{5}( \d{5}){5}$/;

export type KeyDecision = { changed: false; key: KeyRecord } | { changed: true; key: KeyRecord; previousVersion: number | undefined; identityChanged: boolean };

/**
 * What publishing `input` does given the current key set: the same identity and box key is a no-op
 * (same version, nothing written); anything else is the next version, and a different identity key
 * is flagged and dated so partners can warn. Canonical base64 makes string comparison exact.
 */
export function decide(userId: string, current: KeyRecord | undefined, input: KeyInput, now: Date): KeyDecision {
  if (current && current.identityKey === input.identityKey && current.publicKey === input.publicKey) return { changed: false, key: current };
  const identityChanged = current !== undefined && current.identityKey !== input.identityKey;
  const at = now.toISOString();
  const identityChangedAt = identityChanged ? at : current?.identityChangedAt;
  const key: KeyRecord = {
    userId,
    identityKey: input.identityKey,
    publicKey: input.publicKey,
    signature: input.signature,
    version: (current?.version ?? 0) + 1,
    fingerprint: fingerprint(userId, Buffer.from(input.identityKey, 'base64')),
    updatedAt: at,
    ...(identityChangedAt ? { identityChangedAt } : {}),
  };
  return { changed: true, key, previousVersion: current?.version, identityChanged };
}

export const PUBLISH_ATTEMPTS = 5;

/**
 * Verifies and publishes a key set. Concurrent publishers each get a distinct, consecutive version:
 * the loser of a race re-reads and decides again (its keys may even have become the current ones).
 */
export async function publishKey(deps: { publicKeys: PublicKeysPort; clock: Clock }, userId: string, input: KeyInput): Promise<KeyDecision> {
  verifyKeys(decodeKeys(input));
  for (let attempt = 0; attempt < PUBLISH_ATTEMPTS; attempt++) {
    const decision = decide(userId, await deps.publicKeys.getCurrent(userId), input, new Date(deps.clock.now()));
    if (!decision.changed) return decision;
    if (await deps.publicKeys.put(decision.key, decision.previousVersion, decision.identityChanged)) return decision;
    await new Promise((r) => setTimeout(r, Math.random() * 10 * (attempt + 1)));
  }
  throw new Conflict('The keys changed concurrently too often; retry', 'key_conflict');
}

/** The keyChanged WebSocket frame partners receive, so their apps can warn. */
export function keyChangedFrame(key: KeyRecord, identityChanged: boolean): PushFrame {
  return { type: 'keyChanged', userId: key.userId, version: key.version, fingerprint: key.fingerprint, identityChanged, changedAt: key.updatedAt };
}

export interface PublishDeps {
  publicKeys: PublicKeysPort;
  clock: Clock;
  conversations: PartnersPort;
  blocks: Pick<BlocksPort, 'blockRelations'>;
  connections: Pick<ConnectionsPort, 'push'>;
  events: SecurityEventsPort;
}

/**
 * Publishes and, on a new version, tells every online conversation partner (never across a block:
 * a blocked user learns nothing about the blocker's keys). The key is stored either way: a failed
 * notification is recorded, not returned as an error the client would retry; apps also compare
 * versions when they next fetch a key, so a missed event is caught up.
 */
export async function publishAndAnnounce(deps: PublishDeps, userId: string, input: KeyInput): Promise<KeyRecord> {
  const result = await publishKey(deps, userId, input);
  if (result.changed) {
    try {
      const partners = await reachablePartners(deps, userId);
      if (partners.length) await deps.connections.push(partners, keyChangedFrame(result.key, result.identityChanged));
    } catch (error) {
      deps.events.record('key_change_fanout_failed', { userId, errorName: (error as Error)?.name });
    }
  }
  return result.key;
}
