// The public-key directory as a client sees it: entries fetched from the server, their signatures
// checked, cached per user and version so an older message still opens after its sender rotates.
import { toBase64 } from './bytes.ts';
import { verifyPublishedKey, type DeviceKeys, type PublishedKey } from './crypto.ts';
import { ApiError, KeyInvalid } from './errors.ts';
import type { ApiClient, CallOptions } from './http.ts';

export class KeyDirectory {
  private readonly api: ApiClient;
  /** Directory entries seen so far, per user and version. */
  private readonly cache = new Map<string, Map<number, PublishedKey>>();

  constructor(api: ApiClient) {
    this.api = api;
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
    if (entry.userId !== userId || !verifyPublishedKey(entry)) throw new KeyInvalid(userId);
    const versions = this.cache.get(userId) ?? new Map<number, PublishedKey>();
    versions.set(entry.version, entry);
    this.cache.set(userId, versions);
    return entry;
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
