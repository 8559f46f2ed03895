// Safety numbers and trust on first use in the SDK: the fingerprint computed in the client is the
// server's, both sides see the same safety number, a directory entry whose fingerprint does not match
// its identity key is refused, the first identity key seen is remembered in the KeyStore, a box-key
// rotation is not an identity change, and a new identity key is reported (louder once verified).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fingerprint as serverFingerprint } from '../functions/core/public-keys.ts';
import type { Runtime } from '../local/runtime.ts';
import {
  IndexedDbKeyStore,
  KeyInvalid,
  MemoryKeyStore,
  NexChatClient,
  fingerprint,
  generateDeviceKeys,
  safetyNumber,
  type DeviceKeys,
  type IdentityChange,
  type KeyStore,
} from '../client/index.ts';
import { startTestRuntime } from './support/runtime.ts';
import { lastCode, uniqueEmail } from './support/identity.ts';

describe('fingerprints and safety numbers (no server)', () => {
  test('the client’s fingerprint is the server’s, for any key and user id', () => {
    for (let i = 0; i < 5; i++) {
      const keys = generateDeviceKeys();
      const userId = `u_${i}_${'é'.repeat(i)}`;
      assert.equal(fingerprint(userId, keys.identity.publicKey), serverFingerprint(userId, keys.identity.publicKey));
      assert.match(fingerprint(userId, keys.identity.publicKey), /^\d{5}( \d{5}){5}$/);
    }
  });

  test('a safety number is the same from both sides and changes with either identity key', () => {
    const a = { userId: 'u_a', identityKey: generateDeviceKeys().identity.publicKey };
    const b = { userId: 'u_b', identityKey: generateDeviceKeys().identity.publicKey };
    assert.equal(safetyNumber(a, b), safetyNumber(b, a));
    assert.match(safetyNumber(a, b), /^\d{5}( \d{5}){11}$/);
    assert.notEqual(safetyNumber(a, b), safetyNumber(a, { ...b, identityKey: generateDeviceKeys().identity.publicKey }));
  });
});

describe('trust on first use against the local runtime', () => {
  let rt: Runtime;
  before(async () => {
    rt = await startTestRuntime();
  });
  after(async () => rt?.stop());

  async function person(name: string, extra: Partial<ConstructorParameters<typeof NexChatClient>[0]> = {}) {
    const client = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl, ...extra });
    const email = uniqueEmail(name.toLowerCase());
    await client.requestOtp('email', email, 'register');
    const user = await client.register({ email, displayName: name, password: 'trust-on-first-use-1', code: await lastCode(rt, email, 'register') });
    const keys = generateDeviceKeys();
    await client.publishKeys(keys);
    return { client, keys, userId: user.userId };
  }

  test('both sides compute the same safety number, and the server’s fingerprint agrees', async () => {
    const [ann, bob] = await Promise.all([person('Ann'), person('Bob')]);
    const fromAnn = await ann.client.safetyNumber(bob.userId, ann.keys);
    const fromBob = await bob.client.safetyNumber(ann.userId, bob.keys);
    assert.equal(fromAnn.safetyNumber, fromBob.safetyNumber);
    assert.equal(fromAnn.theirs, (await ann.client.publicKey(bob.userId)).fingerprint, 'the directory’s 30 digits');
    assert.equal(fromAnn.theirs, fromBob.mine);
  });

  test('a directory entry whose fingerprint is not its identity key’s is refused', async () => {
    const bob = await person('Bob');
    const lying: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!new URL(String(input)).pathname.endsWith('/public-key') || init?.method !== 'GET') return res;
      const body = (await res.json()) as Record<string, unknown>;
      return new Response(JSON.stringify({ ...body, fingerprint: '00000 00000 00000 00000 00000 00000' }), { status: res.status, headers: res.headers });
    };
    const ann = await person('Ann', { fetch: lying });
    await assert.rejects(ann.client.publicKey(bob.userId), KeyInvalid);
  });

  test('first use is trusted; a box-key rotation is not an identity change; a new identity key is reported, with wasVerified', async () => {
    const store = new MemoryKeyStore();
    const [ann, bob] = await Promise.all([person('Ann', { keyStore: store }), person('Bob')]);
    const changes: IdentityChange[] = [];
    ann.client.onIdentityChanged((c) => changes.push(c));

    const first = await ann.client.publicKey(bob.userId);
    const trusted = await ann.client.trustedKey(bob.userId);
    assert.deepEqual([trusted?.identityKey, trusted?.fingerprint, trusted?.verified], [first.identityKey, first.fingerprint, false]);
    assert.equal((await ann.client.markVerified(bob.userId)).verified, true);

    // Bob rotates his box key under the same identity
    const rotated: DeviceKeys = { identity: bob.keys.identity, box: generateDeviceKeys().box };
    const second = await bob.client.publishKeys(rotated);
    assert.equal((await ann.client.publicKey(bob.userId, second.version)).version, second.version);
    assert.equal(changes.length, 0, 'same identity: no change');
    assert.equal((await ann.client.trustedKey(bob.userId))?.verified, true, 'still verified');

    // Bob reinstalls: a new identity key
    const reinstalled = generateDeviceKeys();
    const third = await bob.client.publishKeys(reinstalled);
    await ann.client.publicKey(bob.userId, third.version);
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.userId, bob.userId);
    assert.equal(changes[0]!.wasVerified, true, 'the key the user had verified changed');
    assert.equal(changes[0]!.previous.identityKey, first.identityKey);
    assert.equal(changes[0]!.fingerprint, fingerprint(bob.userId, reinstalled.identity.publicKey));
    const now = await store.get(bob.userId);
    assert.deepEqual([now?.identityKey, now?.verified], [third.identityKey, false], 'the new key is trusted from now on, unverified');

    // a second client on the same store (an app restart) remembers, and reports nothing new
    const again = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl, keyStore: store, tokens: ann.client.currentTokens! });
    const later: IdentityChange[] = [];
    again.onIdentityChanged((c) => later.push(c));
    await again.publicKey(bob.userId);
    assert.deepEqual(later, []);
  });

  test('IndexedDbKeyStore keeps trust across store objects (fake-indexeddb)', async () => {
    const factory = (await import('fake-indexeddb')).indexedDB;
    const name = `keys-${Date.now()}`;
    const one: KeyStore = new IndexedDbKeyStore(name, factory as never);
    const key = { userId: 'u_1', identityKey: 'AAAA', fingerprint: '1 2 3', firstSeenAt: new Date().toISOString(), verified: true };
    await one.set(key);
    assert.deepEqual(await new IndexedDbKeyStore(name, factory as never).get('u_1'), key);
    await one.delete('u_1');
    assert.equal(await one.get('u_1'), undefined);
  });

  test('IndexedDbKeyStore says clearly when there is no IndexedDB', () => {
    assert.throws(() => new IndexedDbKeyStore('x', undefined), /IndexedDB is not available/);
  });
});
