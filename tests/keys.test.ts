// The key directory end to end through the local gateway and DynamoDB Local: publishing keys made
// like a real client makes them (tweetnacl), verification, versioning and history, concurrency,
// fingerprints, access rules, and the keyChanged event to conversation partners.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import nacl from 'tweetnacl';
import type { Runtime } from '../local/runtime.ts';
import { decide, fingerprint, fingerprintPattern } from '../functions/core/public-keys.ts';
import { openSocket, request, startTestRuntime, type TestSocket } from './support/runtime.ts';
import { bearer, signUp, type Account } from './support/identity.ts';

let rt: Runtime;
let doc: Runtime['db']['doc'];

before(async () => {
  rt = await startTestRuntime();
  doc = rt.db.doc;
});
after(async () => rt?.stop());

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

interface KeySet {
  identity: nacl.SignKeyPair;
  box: nacl.BoxKeyPair;
  body: { identityKey: string; publicKey: string; signature: string };
}

/** What an app does: an Ed25519 identity key signs its X25519 box key. */
function makeKeys(identity = nacl.sign.keyPair(), box = nacl.box.keyPair()): KeySet {
  return {
    identity,
    box,
    body: { identityKey: b64(identity.publicKey), publicKey: b64(box.publicKey), signature: b64(nacl.sign.detached(box.publicKey, identity.secretKey)) },
  };
}

const putKey = (a: Account, body: unknown) => request(rt.httpUrl, 'PUT', '/api/users/public-key', { body, headers: bearer(a.accessToken) });
const getOwn = (a: Account) => request(rt.httpUrl, 'GET', '/api/users/public-key', { headers: bearer(a.accessToken) });
const getUser = (a: Account, userId: string) => request(rt.httpUrl, 'GET', `/api/users/${userId}/public-key`, { headers: bearer(a.accessToken) });

/** Every item of the user's partition in the keys table, sorted by sk (KEY#current, KEY#v0000001, ...). */
async function keyItems(userId: string): Promise<Record<string, any>[]> {
  const out = await doc.send(
    new QueryCommand({
      TableName: process.env.KEYS_TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `USER#${userId}` },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}
const history = async (userId: string) => (await keyItems(userId)).filter((i) => i.sk !== 'KEY#current');

describe('publishing keys', () => {
  test('a valid key set is version 1 with a safety-number fingerprint; own and other users read the same', async () => {
    const [a, b] = await Promise.all([signUp(rt), signUp(rt)]);
    const k = makeKeys();
    const put = await putKey(a, k.body);
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(Object.keys(put.json).sort(), ['fingerprint', 'identityKey', 'publicKey', 'signature', 'updatedAt', 'userId', 'version']);
    assert.equal(put.json.userId, a.userId);
    assert.equal(put.json.version, 1);
    assert.equal(put.json.identityKey, k.body.identityKey);
    assert.equal(put.json.publicKey, k.body.publicKey);
    assert.equal(put.json.signature, k.body.signature);
    assert.match(put.json.fingerprint, /^\d{5} \d{5} \d{5} \d{5} \d{5} \d{5}$/);
    assert.equal(put.json.fingerprint, fingerprint(a.userId, k.identity.publicKey));
    assert.ok(Math.abs(Date.parse(put.json.updatedAt) - Date.now()) < 60_000);

    const own = await getOwn(a);
    assert.equal(own.status, 200, own.text);
    assert.deepEqual(own.json, put.json);
    const seen = await getUser(b, a.userId);
    assert.equal(seen.status, 200, seen.text);
    assert.deepEqual(seen.json, put.json);
    // the caller can also fetch their own by id
    assert.deepEqual((await getUser(a, a.userId)).json, put.json);

    // what a partner does with it: the signature binds the box key to the identity key
    assert.ok(
      nacl.sign.detached.verify(
        Buffer.from(seen.json.publicKey, 'base64'),
        Buffer.from(seen.json.signature, 'base64'),
        Buffer.from(seen.json.identityKey, 'base64'),
      ),
    );
    assert.equal(seen.headers.get('cache-control'), 'no-store');
  });

  test('publishing the same keys again keeps the version and writes nothing', async () => {
    const a = await signUp(rt);
    const k = makeKeys();
    const first = await putKey(a, k.body);
    assert.equal(first.status, 200, first.text);
    const again = await putKey(a, k.body);
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.json, first.json, 'same version, same updatedAt');
    assert.deepEqual(
      (await history(a.userId)).map((i) => i.sk),
      ['KEY#v0000001'],
    );
  });

  test('a new box key is version 2; the fingerprint stays and the history keeps both', async () => {
    const a = await signUp(rt);
    const k1 = makeKeys();
    const v1 = (await putKey(a, k1.body)).json;
    const k2 = makeKeys(k1.identity);
    const put = await putKey(a, k2.body);
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json.version, 2);
    assert.equal(put.json.publicKey, k2.body.publicKey);
    assert.equal(put.json.fingerprint, v1.fingerprint, 'the fingerprint belongs to the identity key');
    assert.equal(put.json.identityChangedAt, undefined);
    assert.ok(put.json.updatedAt >= v1.updatedAt);
    assert.deepEqual((await getOwn(a)).json, put.json);

    const items = await keyItems(a.userId);
    assert.deepEqual(
      items.map((i) => i.sk),
      ['KEY#current', 'KEY#v0000001', 'KEY#v0000002'],
    );
    const [, h1, h2] = items;
    assert.equal(h1!.publicKey, k1.body.publicKey);
    assert.equal(h1!.version, 1);
    assert.equal(h1!.signature, k1.body.signature);
    assert.equal(h2!.publicKey, k2.body.publicKey);
    assert.equal(h2!.version, 2);
    assert.equal(h2!.identityChanged, false);

    // going back to an earlier box key is a change too: a new version, not a rewind
    const back = await putKey(a, k1.body);
    assert.equal(back.json.version, 3);
    assert.equal((await history(a.userId)).length, 3);
  });

  test('a new identity key is allowed but recorded: new fingerprint, identityChangedAt, flagged history', async () => {
    const a = await signUp(rt);
    const v1 = (await putKey(a, makeKeys().body)).json;
    const k2 = makeKeys();
    const put = await putKey(a, k2.body);
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json.version, 2);
    assert.notEqual(put.json.fingerprint, v1.fingerprint);
    assert.equal(put.json.fingerprint, fingerprint(a.userId, k2.identity.publicKey));
    assert.equal(put.json.identityChangedAt, put.json.updatedAt);
    const h = await history(a.userId);
    assert.deepEqual(
      h.map((i) => [i.version, i.identityChanged, i.identityKey]),
      [
        [1, false, v1.identityKey],
        [2, true, k2.body.identityKey],
      ],
    );

    // a later box-key rotation under the new identity keeps the record of when the identity changed
    const v3 = await putKey(a, makeKeys(k2.identity).body);
    assert.equal(v3.json.version, 3);
    assert.equal(v3.json.identityChangedAt, put.json.identityChangedAt);
    assert.equal(v3.json.fingerprint, put.json.fingerprint);
  });
});

describe('verification', () => {
  const tamperings: [string, (k: KeySet) => KeySet['body']][] = [
    ['signed by another identity key', (k) => ({ ...k.body, signature: b64(nacl.sign.detached(k.box.publicKey, nacl.sign.keyPair().secretKey)) })],
    [
      'a flipped bit in the signature',
      (k) => {
        const sig = Buffer.from(k.body.signature, 'base64');
        sig[10]! ^= 0x01;
        return { ...k.body, signature: b64(sig) };
      },
    ],
    [
      'a flipped bit in the box key',
      (k) => {
        const key = Buffer.from(k.body.publicKey, 'base64');
        key[0]! ^= 0x80;
        return { ...k.body, publicKey: b64(key) };
      },
    ],
    ['the signature of another box key', (k) => ({ ...k.body, signature: b64(nacl.sign.detached(nacl.box.keyPair().publicKey, k.identity.secretKey)) })],
    ['the identity key signing itself', (k) => ({ ...k.body, signature: b64(nacl.sign.detached(k.identity.publicKey, k.identity.secretKey)) })],
    ['an all-zero signature', (k) => ({ ...k.body, signature: b64(new Uint8Array(64)) })],
  ];

  for (const [name, tamper] of tamperings) {
    test(`${name} → 422 bad_signature, nothing stored`, async () => {
      const a = await signUp(rt);
      const res = await putKey(a, tamper(makeKeys()));
      assert.equal(res.status, 422, res.text);
      assert.equal(res.json.error.code, 'bad_signature');
      assert.equal((await getOwn(a)).status, 404);
      assert.deepEqual(await keyItems(a.userId), []);
    });
  }

  test('a bad signature leaves an existing key set untouched', async () => {
    const a = await signUp(rt);
    const k = makeKeys();
    const v1 = (await putKey(a, k.body)).json;
    const forged = makeKeys(nacl.sign.keyPair());
    const res = await putKey(a, { ...forged.body, identityKey: k.body.identityKey });
    assert.equal(res.status, 422, res.text);
    assert.deepEqual((await getOwn(a)).json, v1);
    assert.equal((await history(a.userId)).length, 1);
  });

  const bytes = (n: number) => b64(nacl.randomBytes(n));
  const sizes: [string, Partial<KeySet['body']>, string][] = [
    ['a 31-byte identity key', { identityKey: bytes(31) }, 'body.identityKey'],
    ['a 33-byte identity key', { identityKey: bytes(33) }, 'body.identityKey'],
    ['a 31-byte box key', { publicKey: bytes(31) }, 'body.publicKey'],
    ['a 33-byte box key', { publicKey: bytes(33) }, 'body.publicKey'],
    ['a 63-byte signature', { signature: bytes(63) }, 'body.signature'],
    ['a 65-byte signature', { signature: bytes(65) }, 'body.signature'],
    ['empty strings', { identityKey: '' }, 'body.identityKey'],
  ];
  for (const [name, change, path] of sizes) {
    test(`${name} → 422 bad_key_size naming the field, nothing stored`, async () => {
      const a = await signUp(rt);
      const res = await putKey(a, { ...makeKeys().body, ...change });
      assert.equal(res.status, 422, res.text);
      assert.equal(res.json.error.code, 'bad_key_size');
      assert.deepEqual(
        res.json.error.details.map((d: { path: string }) => d.path),
        [path],
      );
      assert.deepEqual(await keyItems(a.userId), []);
    });
  }

  test('every wrong size is reported at once', async () => {
    const a = await signUp(rt);
    const res = await putKey(a, { identityKey: bytes(16), publicKey: bytes(48), signature: bytes(32) });
    assert.equal(res.status, 422, res.text);
    assert.deepEqual(
      res.json.error.details.map((d: { path: string }) => d.path),
      ['body.identityKey', 'body.publicKey', 'body.signature'],
    );
  });

  test('malformed base64, missing and extra fields → 400 validation_failed, nothing stored', async () => {
    const a = await signUp(rt);
    const good = makeKeys().body;
    const lastBits = (s: string) => s.slice(0, -2) + String.fromCharCode(s.charCodeAt(s.length - 2) + 1) + '='; // non-zero padding bits
    const bodies: [string, unknown][] = [
      ['not base64', { ...good, publicKey: 'not base64!' }],
      ['base64url alphabet', { ...good, signature: `-_${good.signature.slice(2)}` }],
      ['missing padding', { ...good, identityKey: good.identityKey.replace(/=+$/, '') }],
      ['whitespace inside', { ...good, publicKey: `${good.publicKey.slice(0, 8)} ${good.publicKey.slice(8)}` }],
      ['non-canonical padding bits', { ...good, publicKey: lastBits(good.publicKey) }],
      ['a number', { ...good, identityKey: 12345 }],
      ['missing signature', { identityKey: good.identityKey, publicKey: good.publicKey }],
      ['missing everything', {}],
      ['an extra field', { ...good, algorithm: 'x25519' }],
      ['an array', [good]],
      ['a far too long value', { ...good, publicKey: 'A'.repeat(4096) }],
    ];
    for (const [name, body] of bodies) {
      const res = await putKey(a, body);
      assert.equal(res.status, 400, `${name}: ${res.text}`);
      assert.equal(res.json.error.code, 'validation_failed', name);
      assert.ok(Array.isArray(res.json.error.details) && res.json.error.details.length > 0, name);
    }
    const notJson = await request(rt.httpUrl, 'PUT', '/api/users/public-key', {
      raw: '{"identityKey":',
      headers: { ...bearer(a.accessToken), 'content-type': 'application/json' },
    });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.error.code, 'invalid_json');
    const noBody = await request(rt.httpUrl, 'PUT', '/api/users/public-key', { headers: { ...bearer(a.accessToken), 'content-type': 'application/json' } });
    assert.equal(noBody.status, 400);
    const form = await request(rt.httpUrl, 'PUT', '/api/users/public-key', {
      raw: 'identityKey=x',
      headers: { ...bearer(a.accessToken), 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.status, 415);
    assert.deepEqual(await keyItems(a.userId), []);
  });
});

describe('access', () => {
  test('without a valid token every key route is 401', async () => {
    const a = await signUp(rt);
    const body = makeKeys().body;
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer not-a-token' }, { authorization: `Basic ${a.accessToken}` }]) {
      assert.equal((await request(rt.httpUrl, 'PUT', '/api/users/public-key', { body, headers })).status, 401);
      assert.equal((await request(rt.httpUrl, 'GET', '/api/users/public-key', { headers })).status, 401);
      assert.equal((await request(rt.httpUrl, 'GET', `/api/users/${a.userId}/public-key`, { headers })).status, 401);
    }
    assert.deepEqual(await keyItems(a.userId), []);
  });

  test('keys not published, unknown user → 404 key_not_found; a malformed id → 400', async () => {
    const a = await signUp(rt);
    const own = await getOwn(a);
    assert.equal(own.status, 404);
    assert.equal(own.json.error.code, 'key_not_found');
    const unknown = await getUser(a, crypto.randomUUID());
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'key_not_found');
    const silent = await getUser(a, (await signUp(rt)).userId);
    assert.equal(silent.status, 404);
    assert.deepEqual(silent.json, unknown.json, 'a user without keys and no user at all look the same');
    const bad = await getUser(a, 'USER%23x');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'validation_failed');
  });

  test("a user can only publish their own keys: naming another user is refused, and the other user's keys stay", async () => {
    const [a, b] = await Promise.all([signUp(rt), signUp(rt)]);
    const aKeys = (await putKey(a, makeKeys().body)).json;
    const res = await putKey(b, { ...makeKeys().body, userId: a.userId });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.error.code, 'validation_failed');
    assert.ok(res.json.error.details.some((d: { path: string }) => d.path.includes('userId')));
    const query = await request(rt.httpUrl, 'PUT', `/api/users/public-key?userId=${a.userId}`, { body: makeKeys().body, headers: bearer(b.accessToken) });
    assert.equal(query.status, 400, 'the route takes no query string');
    // b's own publication goes to b, never to a
    const own = await putKey(b, makeKeys().body);
    assert.equal(own.json.userId, b.userId);
    assert.deepEqual((await getUser(b, a.userId)).json, aKeys);
  });

  test('another user publishing the same identity key gets their own fingerprint', async () => {
    const [a, b] = await Promise.all([signUp(rt), signUp(rt)]);
    const k = makeKeys();
    const fa = (await putKey(a, k.body)).json.fingerprint;
    const fb = (await putKey(b, k.body)).json.fingerprint;
    assert.notEqual(fa, fb, 'the fingerprint binds the key to its owner');
  });
});

describe('concurrency', () => {
  test('concurrent PUTs with different box keys get distinct consecutive versions, each in the history', async () => {
    const a = await signUp(rt);
    const identity = nacl.sign.keyPair();
    const sets = Array.from({ length: 6 }, () => makeKeys(identity));
    const replies = await Promise.all(sets.map((k) => putKey(a, k.body)));
    for (const r of replies) assert.ok(r.status === 200 || (r.status === 409 && r.json.error.code === 'key_conflict'), r.text);
    const accepted = replies.filter((r) => r.status === 200);
    assert.ok(accepted.length >= 2, `at least two of the racers win (got ${accepted.length})`);
    const versions = accepted.map((r) => r.json.version).sort((x, y) => x - y);
    assert.deepEqual(
      versions,
      Array.from({ length: accepted.length }, (_, i) => i + 1),
      'distinct and consecutive from 1',
    );

    const h = await history(a.userId);
    assert.equal(h.length, accepted.length);
    for (const r of accepted) {
      const item = h.find((i) => i.version === r.json.version);
      assert.equal(item?.publicKey, r.json.publicKey, `history v${r.json.version} holds the key that won it`);
    }
    const current = (await getOwn(a)).json;
    assert.equal(current.version, accepted.length);
    assert.equal(current.publicKey, accepted.find((r) => r.json.version === accepted.length)!.json.publicKey);
  });

  test('concurrent PUTs of the same keys make one version', async () => {
    const a = await signUp(rt);
    const k = makeKeys();
    const replies = await Promise.all(Array.from({ length: 5 }, () => putKey(a, k.body)));
    for (const r of replies) {
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.version, 1);
    }
    assert.equal(new Set(replies.map((r) => r.json.updatedAt)).size, 1);
    assert.equal((await history(a.userId)).length, 1);
  });
});

describe('fingerprints', () => {
  const userId = '00000000-0000-4000-8000-000000000001';
  const key = Uint8Array.from({ length: 32 }, (_, i) => i + 1);

  test('a fixed vector: iterated SHA-512 as documented (users compare these across app versions)', () => {
    // independently computed: h = sha512(b"\0\0" + key + uid); 5200× h = sha512(h + key); six 5-byte groups mod 1e5
    assert.equal(fingerprint(userId, key), '68809 24781 84077 63372 70548 56230');
  });

  test('stable for the same identity key and user; different for another key or another user', () => {
    assert.equal(fingerprint(userId, key), fingerprint(userId, Uint8Array.from(key)));
    const other = Uint8Array.from(key);
    other[31]! ^= 1;
    assert.notEqual(fingerprint(userId, other), fingerprint(userId, key));
    assert.notEqual(fingerprint('00000000-0000-4000-8000-000000000002', key), fingerprint(userId, key));
    for (let i = 0; i < 20; i++) assert.match(fingerprint(crypto.randomUUID(), nacl.randomBytes(32)), fingerprintPattern);
  });

  test('the published fingerprint is stable across box-key rotations and re-reads', async () => {
    const a = await signUp(rt);
    const identity = nacl.sign.keyPair();
    const prints = new Set<string>();
    for (let i = 0; i < 3; i++) prints.add((await putKey(a, makeKeys(identity).body)).json.fingerprint);
    prints.add((await getOwn(a)).json.fingerprint);
    assert.equal(prints.size, 1);
  });

  test('decide(): same keys no change; a new box key or identity bumps the version', () => {
    const now = new Date('2030-01-01T00:00:00.000Z');
    const k = makeKeys();
    const first = decide(userId, undefined, k.body, now);
    assert.equal(first.changed, true);
    assert.equal(first.key.version, 1);
    assert.equal(first.changed && first.identityChanged, false);
    assert.equal(first.key.identityChangedAt, undefined);
    const same = decide(userId, first.key, { ...k.body }, new Date('2031-01-01T00:00:00.000Z'));
    assert.deepEqual(same, { changed: false, key: first.key });
    const rotated = decide(userId, first.key, makeKeys(k.identity).body, now);
    assert.equal(rotated.changed && rotated.identityChanged, false);
    assert.equal(rotated.key.version, 2);
    const swapped = decide(userId, first.key, makeKeys().body, now);
    assert.equal(swapped.changed && swapped.identityChanged, true);
    assert.equal(swapped.key.identityChangedAt, now.toISOString());
  });
});

describe('keyChanged events', () => {
  async function connect(a: Account): Promise<TestSocket> {
    const ticket = await request(rt.httpUrl, 'POST', '/api/ws/ticket', { headers: bearer(a.accessToken) });
    assert.equal(ticket.status, 201, ticket.text);
    return openSocket(`${rt.wsUrl}/?ticket=${encodeURIComponent(ticket.json.ticket)}`);
  }
  const isKeyChanged = (userId: string) => (f: any) => f.type === 'keyChanged' && f.userId === userId;
  const nothing = async (s: TestSocket, match: (f: any) => boolean, ms = 400) => {
    await assert.rejects(s.next(match, ms), /no matching frame/);
  };

  test("a partner's sockets receive keyChanged; a stranger's do not; a no-op PUT sends nothing", async () => {
    const [owner, partner, stranger] = await Promise.all([signUp(rt), signUp(rt), signUp(rt)]);
    const conv = await request(rt.httpUrl, 'POST', '/api/conversations', { body: { userId: partner.userId }, headers: bearer(owner.accessToken) });
    assert.ok(conv.status === 201 || conv.status === 200, conv.text);
    const [p1, p2, s] = await Promise.all([connect(partner), connect(partner), connect(stranger)]);
    try {
      const k1 = makeKeys();
      const v1 = (await putKey(owner, k1.body)).json;
      for (const sock of [p1, p2]) {
        const frame = await sock.next(isKeyChanged(owner.userId));
        assert.deepEqual(frame, {
          type: 'keyChanged',
          userId: owner.userId,
          version: 1,
          fingerprint: v1.fingerprint,
          identityChanged: false,
          changedAt: v1.updatedAt,
        });
      }

      // the same keys again: nothing changed, nobody is told
      assert.equal((await putKey(owner, k1.body)).json.version, 1);
      await nothing(p1, isKeyChanged(owner.userId));

      const v2 = (await putKey(owner, makeKeys(k1.identity).body)).json;
      const rotated = await p1.next(isKeyChanged(owner.userId));
      assert.equal(rotated.version, 2);
      assert.equal(rotated.identityChanged, false);
      assert.equal(rotated.fingerprint, v1.fingerprint);
      assert.equal(rotated.changedAt, v2.updatedAt);

      const v3 = (await putKey(owner, makeKeys().body)).json;
      const swapped = await p1.next(isKeyChanged(owner.userId));
      assert.equal(swapped.version, 3);
      assert.equal(swapped.identityChanged, true, 'the app must warn: a new identity key');
      assert.equal(swapped.fingerprint, v3.fingerprint);
      assert.notEqual(swapped.fingerprint, v1.fingerprint);
      assert.equal((await p2.next(isKeyChanged(owner.userId))).version, 2);
      assert.equal((await p2.next(isKeyChanged(owner.userId))).version, 3);

      await nothing(s, (f) => f.type === 'keyChanged');
      // a failed fan-out is not the publisher's error, and closed sockets do not break the PUT
      await p2.close();
      const v4 = await putKey(owner, makeKeys(k1.identity).body);
      assert.equal(v4.status, 200, v4.text);
      assert.equal((await p1.next(isKeyChanged(owner.userId))).version, 4);
    } finally {
      await Promise.allSettled([p1.close(), p2.close(), s.close()]);
    }
  });

  test('publishing with no partners online succeeds', async () => {
    const [owner, partner] = await Promise.all([signUp(rt), signUp(rt)]);
    const conv = await request(rt.httpUrl, 'POST', '/api/conversations', { body: { userId: partner.userId }, headers: bearer(owner.accessToken) });
    assert.ok(conv.status === 201 || conv.status === 200, conv.text);
    const res = await putKey(owner, makeKeys().body);
    assert.equal(res.status, 200, res.text);
  });
});
