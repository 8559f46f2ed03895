// The public-key directory over in-memory ports: keys signed with tweetnacl as clients do, versions
// that move only on a real change, and keyChanged events for the partners who may hear of it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import nacl from 'tweetnacl';
import { openConversation, sendMessage } from '#core/conversations.ts';
import { currentKeys } from '#core/key-lookup.ts';
import { fingerprint, fingerprintPattern, publishAndAnnounce } from '#core/public-keys.ts';
import { addUser, conversationDeps, fakeWorld, openingDeps, publishDeps, message, rejectsWith, type World } from '../support/fakes.ts';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** What a client uploads: its identity key signs its box key. */
function clientKeys(identity = nacl.sign.keyPair(), box = nacl.box.keyPair()) {
  return {
    identity,
    box,
    upload: { identityKey: b64(identity.publicKey), publicKey: b64(box.publicKey), signature: b64(nacl.sign.detached(box.publicKey, identity.secretKey)) },
  };
}

const keyFrames = (w: World, userId: string) => w.connections.framesFor(userId).filter((f) => (f as { type: string }).type === 'keyChanged');

describe('publishing keys', () => {
  test('the first key set is version 1 with the identity key’s fingerprint', async () => {
    const w = fakeWorld();
    const ada = (await addUser(w)).userId;
    const { upload, identity } = clientKeys();
    const key = await publishAndAnnounce(publishDeps(w), ada, upload);
    assert.equal(key.version, 1);
    assert.match(key.fingerprint, fingerprintPattern);
    assert.equal(key.fingerprint, fingerprint(ada, identity.publicKey));
    assert.deepEqual(await currentKeys(w, ada, true), key);
  });

  test('publishing the same keys again is a no-op: same version, no history, no event', async () => {
    const w = fakeWorld();
    const [ada, bob] = [(await addUser(w)).userId, (await addUser(w)).userId];
    await sendMessage(conversationDeps(w), ada, bob, message('keys-00001'));
    const b1 = w.connections.open(bob, 'sb');
    const { upload } = clientKeys();
    const first = await publishAndAnnounce(publishDeps(w), ada, upload);
    const pushedAfterFirst = keyFrames(w, bob).length;
    w.clock.advance(60_000);
    const again = await publishAndAnnounce(publishDeps(w), ada, upload);
    assert.deepEqual(again, first);
    assert.equal(w.publicKeys.history.get(ada)?.length, 1);
    assert.equal(keyFrames(w, bob).length, pushedAfterFirst);
    assert.equal(w.connections.framesOn(b1).length, pushedAfterFirst);
  });

  test('a new box key bumps the version and keeps the fingerprint; a new identity key is flagged and dated', async () => {
    const w = fakeWorld();
    const ada = (await addUser(w)).userId;
    const one = clientKeys();
    await publishAndAnnounce(publishDeps(w), ada, one.upload);
    w.clock.advance(1000);
    const rotated = await publishAndAnnounce(publishDeps(w), ada, clientKeys(one.identity).upload);
    assert.equal(rotated.version, 2);
    assert.equal(rotated.identityChangedAt, undefined);
    assert.equal(rotated.fingerprint, fingerprint(ada, one.identity.publicKey));
    w.clock.advance(1000);
    const replaced = await publishAndAnnounce(publishDeps(w), ada, clientKeys().upload);
    assert.equal(replaced.version, 3);
    assert.equal(replaced.identityChangedAt, new Date(w.clock.now()).toISOString());
    assert.notEqual(replaced.fingerprint, rotated.fingerprint);
    assert.deepEqual(
      w.publicKeys.history.get(ada)?.map((h) => [h.version, h.identityChanged]),
      [
        [1, false],
        [2, false],
        [3, true],
      ],
    );
  });

  test('a key change reaches the partners the user talked with, and nobody on either side of a block', async () => {
    const w = fakeWorld();
    const [ada, bob, cy, dee, eve, fay] = (await Promise.all(Array.from({ length: 6 }, async () => (await addUser(w)).userId))) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    await publishAndAnnounce(publishDeps(w), ada, clientKeys().upload);
    await sendMessage(conversationDeps(w), ada, bob, message('partner-01')); // ada talked with bob
    await openConversation(openingDeps(w), ada, cy); // and opened one with cy ...
    await w.blocks.block(ada, cy); // ... whom she then blocked
    await sendMessage(conversationDeps(w), ada, dee, message('partner-02'));
    await w.blocks.block(dee, ada); // dee blocks ada
    await sendMessage(conversationDeps(w), eve, ada, message('stranger-1')); // eve wrote to ada, ada never answered
    for (const u of [bob, cy, dee, eve, fay]) w.connections.open(u, `s-${u}`);

    w.clock.advance(1000);
    const key = await publishAndAnnounce(publishDeps(w), ada, clientKeys().upload);
    const expected = { type: 'keyChanged', userId: ada, version: 2, fingerprint: key.fingerprint, identityChanged: true, changedAt: key.updatedAt };
    assert.deepEqual(keyFrames(w, bob), [expected]);
    for (const u of [cy, dee, eve, fay]) assert.deepEqual(keyFrames(w, u), [], u);
  });

  test('a signature that does not verify is 422 and stores nothing', async () => {
    const w = fakeWorld();
    const ada = (await addUser(w)).userId;
    const good = clientKeys();
    const otherBox = nacl.box.keyPair();
    const bySomeoneElse = { ...good.upload, signature: clientKeys(undefined, good.box).upload.signature };
    const overAnotherKey = { ...good.upload, publicKey: b64(otherBox.publicKey) };
    for (const upload of [bySomeoneElse, overAnotherKey]) await rejectsWith(publishAndAnnounce(publishDeps(w), ada, upload), 422, 'bad_signature');
    assert.equal(await w.publicKeys.getCurrent(ada), undefined);
    await rejectsWith(currentKeys(w, ada, true), 404, 'key_not_found');
  });

  test('wrong sizes are 422 with every field named; non-canonical base64 is 400', async () => {
    const w = fakeWorld();
    const ada = (await addUser(w)).userId;
    const { upload } = clientKeys();
    const short = await rejectsWith(
      publishAndAnnounce(publishDeps(w), ada, { ...upload, identityKey: b64(new Uint8Array(31)), signature: b64(new Uint8Array(63)) }),
      422,
      'bad_key_size',
    );
    assert.deepEqual(
      (short.details as unknown as { path: string }[]).map((d) => d.path),
      ['body.identityKey', 'body.signature'],
    );
    // 32 bytes end in one character whose two low bits are padding: setting one decodes to the same key
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const last = alphabet.indexOf(upload.publicKey.at(-2)!);
    const nonCanonical = `${upload.publicKey.slice(0, -2)}${alphabet[last | 1]}=`;
    assert.deepEqual(Buffer.from(nonCanonical, 'base64'), Buffer.from(upload.publicKey, 'base64'));
    await rejectsWith(publishAndAnnounce(publishDeps(w), ada, { ...upload, publicKey: nonCanonical }), 400, 'validation_failed');
    assert.equal(await w.publicKeys.getCurrent(ada), undefined);
  });

  test('two publishers at once get consecutive versions, both kept in history', async () => {
    const w = fakeWorld();
    const ada = (await addUser(w)).userId;
    const [x, y] = await Promise.all([
      publishAndAnnounce(publishDeps(w), ada, clientKeys().upload),
      publishAndAnnounce(publishDeps(w), ada, clientKeys().upload),
    ]);
    assert.deepEqual([x.version, y.version].sort(), [1, 2]);
    assert.deepEqual(
      w.publicKeys.history.get(ada)?.map((h) => h.version),
      [1, 2],
    );
    assert.equal((await w.publicKeys.getCurrent(ada))?.version, 2);
  });

  test('a failed fan-out is recorded, and the new keys are stored anyway', async () => {
    const w = fakeWorld();
    const [ada, bob] = [(await addUser(w)).userId, (await addUser(w)).userId];
    await sendMessage(conversationDeps(w), ada, bob, message('fanout-001'));
    const failing = {
      ...publishDeps(w),
      connections: {
        push: async () => {
          throw Object.assign(new Error('endpoint down'), { name: 'InternalServerError' });
        },
      },
    };
    const key = await publishAndAnnounce(failing, ada, clientKeys().upload);
    assert.equal((await w.publicKeys.getCurrent(ada))?.version, key.version);
    assert.deepEqual(w.events.named('key_change_fanout_failed'), [
      { name: 'key_change_fanout_failed', data: { userId: ada, errorName: 'InternalServerError' } },
    ]);
  });

  test('a user without keys is a 404 that says whose keys are missing', async () => {
    const w = fakeWorld();
    const ada = (await addUser(w)).userId;
    const own = await rejectsWith(currentKeys(w, ada, true), 404, 'key_not_found');
    const other = await rejectsWith(currentKeys(w, ada, false), 404, 'key_not_found');
    assert.notEqual(own.message, other.message);
  });
});
