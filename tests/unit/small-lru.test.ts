// The LRU that replaces mnemonist's in Lambda bundles must behave as the SDK's endpoint cache expects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRequire } from 'node:module';
import SmallLRU from '../../functions/adapters/aws/small-lru.ts';

test('evicts the least recently used entry; get refreshes recency, peek does not', () => {
  const lru = new SmallLRU<string, number>(2);
  lru.set('a', 1).set('b', 2);
  assert.equal(lru.get('a'), 1); // a is now the most recent
  lru.set('c', 3); // evicts b
  assert.equal(lru.has('b'), false);
  assert.deepEqual([lru.has('a'), lru.has('c'), lru.size], [true, true, 2]);
  assert.equal(lru.peek('a'), 1);
  lru.set('d', 4); // evicts a: peek did not refresh it, so it is older than c
  assert.equal(lru.has('a'), false, 'a was the least recently used');
  assert.deepEqual([lru.get('c'), lru.get('d'), lru.get('zz')], [3, 4, undefined]);
  lru.clear();
  assert.equal(lru.size, 0);
});

test('answers exactly like mnemonist on a random sequence of operations', () => {
  const ours = new SmallLRU<number, number>(5);
  const MnemonistLRU = createRequire(import.meta.url)('mnemonist/lru-cache.js') as new (capacity: number) => SmallLRU<number, number>;
  const theirs = new MnemonistLRU(5);
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 9;
  for (let i = 0; i < 5000; i++) {
    const key = rand();
    const op = i % 4;
    if (op === 0) {
      ours.set(key, i);
      theirs.set(key, i);
    } else if (op === 1) assert.equal(ours.get(key), theirs.get(key), `get ${key} at ${i}`);
    else if (op === 2) assert.equal(ours.peek(key), theirs.peek(key), `peek ${key} at ${i}`);
    else assert.equal(ours.has(key), theirs.has(key), `has ${key} at ${i}`);
  }
  assert.equal(ours.size, theirs.size);
});
