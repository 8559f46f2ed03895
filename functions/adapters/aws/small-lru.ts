// Stand-in for mnemonist/lru-cache in Lambda bundles only (lib/bundling.ts aliases it here). The
// DynamoDB client's endpoint-discovery cache (@aws-sdk/endpoint-cache) is its only user and calls
// get, set, has, peek and clear; a Map keeps insertion order, which is all an LRU needs. mnemonist
// and its helpers are ~6.5 KB of every bundle for a cache DynamoDB only fills when endpoint
// discovery is turned on, which NexChat never does.
export default class LRUCache<K, V> {
  private readonly map = new Map<K, V>();
  private readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
  }

  get size(): number {
    return this.map.size;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Reads without refreshing the entry's recency. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  /** Reads and marks the entry most recently used. */
  get(key: K): V | undefined {
    if (!this.map.has(key)) return undefined;
    const value = this.map.get(key)!;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  set(key: K, value: V): this {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
    return this;
  }

  clear(): void {
    this.map.clear();
  }
}
