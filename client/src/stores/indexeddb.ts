// A KeyStore in the browser's IndexedDB: trust decisions survive a reload. One object store, keyed by
// userId. Only public material is stored (identity keys and fingerprints), never a secret key.
import type { KeyStore, TrustedKey } from '../trust.ts';

/** Only what this store touches of IndexedDB (the SDK compiles without the DOM library). */
interface Request<T> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface OpenRequest extends Request<Database> {
  onupgradeneeded: (() => void) | null;
}
interface Database {
  objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string, options: { keyPath: string }): unknown;
  transaction(store: string, mode: 'readonly' | 'readwrite'): { objectStore(name: string): ObjectStore };
  close(): void;
}
interface ObjectStore {
  get(key: string): Request<TrustedKey | undefined>;
  put(value: TrustedKey): Request<unknown>;
  delete(key: string): Request<unknown>;
}
export interface IdbFactory {
  open(name: string, version?: number): OpenRequest;
}

const STORE = 'trustedKeys';

function done<T>(request: Request<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export class IndexedDbKeyStore implements KeyStore {
  private readonly db: Promise<Database>;

  /** `indexedDB`: the browser's by default (tests pass fake-indexeddb's). */
  constructor(databaseName = 'nexchat-keys', indexedDB: IdbFactory | undefined = (globalThis as { indexedDB?: IdbFactory }).indexedDB) {
    if (!indexedDB) throw new TypeError('IndexedDB is not available here: use MemoryKeyStore or pass an IndexedDB factory');
    const request = indexedDB.open(databaseName, 1);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE, { keyPath: 'userId' });
    };
    this.db = done(request);
  }

  private async store(mode: 'readonly' | 'readwrite'): Promise<ObjectStore> {
    return (await this.db).transaction(STORE, mode).objectStore(STORE);
  }

  async get(userId: string): Promise<TrustedKey | undefined> {
    return (await done((await this.store('readonly')).get(userId))) ?? undefined;
  }

  async set(key: TrustedKey): Promise<void> {
    await done((await this.store('readwrite')).put({ ...key }));
  }

  async delete(userId: string): Promise<void> {
    await done((await this.store('readwrite')).delete(userId));
  }

  /** Closes the database connection. */
  async close(): Promise<void> {
    (await this.db).close();
  }
}
