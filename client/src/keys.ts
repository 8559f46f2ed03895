// The public-key directory as a client sees it: entries fetched from the server, their signatures and
// fingerprints checked, cached per user and version so an older message still opens after its sender
// rotates, and trusted on first use (trust.ts): a changed identity key is reported to the app.
import { fingerprint, safetyNumber, type IdentityChange, type KeyStore, type TrustedKey } from './trust.ts';
import { toBase64 } from './bytes.ts';
import { verifyPublishedKey, type DeviceKeys, type PublishedKey } from './crypto.ts';
import { ApiError, KeyInvalid } from './errors.ts';
import type { ApiClient, CallOptions } from './http.ts';

export class KeyDirectory {
  private readonly api: ApiClient;
  readonly store: KeyStore;
  /** Directory entries seen so far, per user and version. */
  private readonly cache = new Map<string, Map<number, PublishedKey>>();
  private readonly changeListeners = new Set<(change: IdentityChange) => void>();

  constructor(api: ApiClient, store: KeyStore) {
    this.api = api;
    this.store = store;
  }

  /** Called when a user's identity key is not the one trusted before (the new one is trusted from then on, unverified). */
  onIdentityChanged(listener: (change: IdentityChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /**
   * A user's published key from the directory, its signature checked (a key the identity key did not
   * sign is refused with `KeyInvalid`). Cached per version: with `version`, a cached entry of exactly
   * that version, else the directory's current one (which may be another version: check `.version`);
   * without, the newest cached or the directory's.
   */
  async publicKey(userId: string, version?: number, opts: CallOptions = {}): Promise<PublishedKey> {
    const known = this.cache.get(userId);
    const cached = version === undefined ? (known ? known.get(Math.max(...known.keys())) : undefined) : known?.get(version);
    if (cached) return cached;
    return this.fetch(userId, opts);
  }

  /** The directory's current entry, checked and cached. */
  async fetch(userId: string, opts: CallOptions = {}): Promise<PublishedKey> {
    const entry = await this.api.call('GetUserPublicKey', { path: { userId } }, opts);
    // the signature binds the box key to the identity key; the fingerprint is recomputed, never taken on trust
    if (entry.userId !== userId || !verifyPublishedKey(entry) || fingerprint(userId, entry.identityKey) !== entry.fingerprint) throw new KeyInvalid(userId);
    await this.trust(entry);
    const versions = this.cache.get(userId) ?? new Map<number, PublishedKey>();
    versions.set(entry.version, entry);
    this.cache.set(userId, versions);
    return entry;
  }

  /**
   * Trust on first use: the first identity key seen for a user is stored; a different one later is an
   * identity change (listeners are told, the new key is stored unverified). Box-key rotations under the
   * same identity key change nothing here.
   */
  private async trust(entry: PublishedKey): Promise<void> {
    const known = await this.store.get(entry.userId);
    if (known?.identityKey === entry.identityKey) return;
    const next: TrustedKey = {
      userId: entry.userId,
      identityKey: entry.identityKey,
      fingerprint: entry.fingerprint,
      firstSeenAt: new Date().toISOString(),
      verified: false,
    };
    await this.store.set(next);
    if (!known) return;
    const change: IdentityChange = {
      userId: entry.userId,
      previous: known,
      identityKey: entry.identityKey,
      fingerprint: entry.fingerprint,
      wasVerified: known.verified,
    };
    for (const listener of [...this.changeListeners]) {
      try {
        listener(change);
      } catch {
        // a listener's bug must not break key lookups
      }
    }
  }

  /**
   * The safety number to compare with `userId` in person (60 digits): both fingerprints computed here
   * from the directory's current identity keys (the peer's checked against the server's fingerprint).
   */
  async safetyNumber(userId: string, mine: DeviceKeys, opts: CallOptions = {}): Promise<{ safetyNumber: string; mine: string; theirs: string }> {
    const me = await this.api.ownUserId(opts);
    const theirs = await this.fetch(userId, opts);
    const own = { userId: me, identityKey: mine.identity.publicKey };
    return { safetyNumber: safetyNumber(own, theirs), mine: fingerprint(me, mine.identity.publicKey), theirs: theirs.fingerprint };
  }

  /** The user compared safety numbers with `userId` and they matched: remember it (until an identity change). */
  async markVerified(userId: string, opts: CallOptions = {}): Promise<TrustedKey> {
    let known = await this.store.get(userId);
    if (!known) {
      await this.fetch(userId, opts); // trusts it first
      known = (await this.store.get(userId))!;
    }
    const verified = { ...known, verified: true };
    await this.store.set(verified);
    return verified;
  }

  /** The directory's entry for the caller, which must be `keys`' box key (else members could not open the message). */
  async own(keys: DeviceKeys, opts: CallOptions = {}): Promise<PublishedKey> {
    const me = await this.api.ownUserId(opts);
    const mine = toBase64(keys.box.publicKey);
    let entry = await this.publicKey(me, undefined, opts);
    if (entry.publicKey !== mine) entry = await this.fetch(me, opts); // rotated since this client looked
    if (entry.publicKey !== mine)
      throw new ApiError(0, 'key_not_published', 'These keys are not the published ones: publish them (PUT /api/users/public-key) first');
    return entry;
  }
}
