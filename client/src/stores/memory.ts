// The in-memory KeyStore: what the SDK uses unless told otherwise. Trust lasts as long as the client
// object; an app that restarts should pass a persistent store (IndexedDbKeyStore in browsers).
import type { KeyStore, TrustedKey } from '../trust.ts';

export class MemoryKeyStore implements KeyStore {
  private readonly keys = new Map<string, TrustedKey>();

  async get(userId: string): Promise<TrustedKey | undefined> {
    const k = this.keys.get(userId);
    return k && { ...k };
  }

  async set(key: TrustedKey): Promise<void> {
    this.keys.set(key.userId, { ...key });
  }

  async delete(userId: string): Promise<void> {
    this.keys.delete(userId);
  }
}
