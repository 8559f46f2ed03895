// The fakes themselves (tests/support/fakes.ts) keep the port contracts the unit tests rely on and
// the real adapters implement: a green unit test must not come from a fake that is kinder than DynamoDB.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fakeWorld, rejectsWith } from '../support/fakes.ts';

test('sessions: of two rotations of one token exactly one wins; revoked or ended families never rotate', async () => {
  const w = fakeWorld();
  const now = w.clock.now();
  await w.sessions.create({ familyId: 'f', userId: 'u', currentDigest: 'd0', generation: 1, createdAt: now, expiresAt: Math.floor(now / 1000) + 10 });
  const results = await Promise.all([w.sessions.rotate('f', 'd0', 'd1'), w.sessions.rotate('f', 'd0', 'd2')]);
  assert.deepEqual(results.sort(), [false, true]);
  assert.equal((await w.sessions.get('f'))?.generation, 2);
  w.clock.advance(10_000);
  assert.equal(await w.sessions.rotate('f', (await w.sessions.get('f'))!.currentDigest, 'd3'), false);
  await w.sessions.revoke('f', 'first');
  await w.sessions.revoke('f', 'second');
  assert.equal((await w.sessions.get('f'))?.revokeReason, 'first');
  await assert.rejects(w.sessions.create({ familyId: 'f', userId: 'u', currentDigest: 'x', generation: 1, createdAt: now, expiresAt: 0 }));
});

test('challenges: attempts are counted before the code is compared, and a challenge is used once', async () => {
  const w = fakeWorld();
  const key = { purpose: 'login' as const, channel: 'email' as const, destinationKey: 'k' };
  const end = w.clock.now() + 1000;
  assert.deepEqual(await w.challenges.put(key, 'digest', end, w.clock.now() + 500), { ok: true });
  assert.deepEqual(await w.challenges.put(key, 'other', end, w.clock.now() + 500), { ok: false, resendAt: w.clock.now() + 500 });
  assert.equal((await w.challenges.attempt(key, 2))?.attempts, 1);
  assert.equal((await w.challenges.attempt(key, 2))?.attempts, 2);
  assert.equal(await w.challenges.attempt(key, 2), undefined);
  assert.deepEqual(await Promise.all([w.challenges.markUsed(key), w.challenges.markUsed(key)]), [true, false]);
});

test('users: claims are unique, updates are conditional, and records are copies', async () => {
  const w = fakeWorld();
  const base = { displayName: 'A', role: 'user' as const, status: 'active' as const, tokensValidAfter: 0, createdAt: 't', updatedAt: 't' };
  await w.users.create({ ...base, userId: 'a', email: 'a@example.test' });
  await rejectsWith(w.users.create({ ...base, userId: 'b', email: 'a@example.test' }), 409, 'identifier_taken');
  assert.equal(w.users.records.has('b'), false);
  await rejectsWith(w.users.update('nobody', { displayName: 'x' }), 404, 'user_not_found');
  await w.users.update('a', { status: 'banned' });
  await rejectsWith(w.users.update('a', { status: 'suspended' }, { unlessStatus: 'banned' }), 409, 'already_banned');
  const copy = await w.users.get('a');
  copy!.displayName = 'changed';
  assert.equal((await w.users.get('a'))?.displayName, 'A');
});

test('conversations: concurrent sends fill both delivery queues in order; a foreign inbox cursor is a 400', async () => {
  const w = fakeWorld();
  const req = (senderId: string, recipientId: string, clientMessageId: string) => ({
    conversationId: 'c',
    senderId,
    recipientId,
    clientMessageId,
    ciphertext: 'x',
    nonce: 'n',
    senderKeyVersion: 1,
    recipientKeyVersion: 1,
    retentionSeconds: 60,
    members: { sender: { conversationId: 'c', userId: senderId, peerId: recipientId, createdAt: new Date(0).toISOString() } },
  });
  await Promise.all(Array.from({ length: 10 }, (_, i) => w.conversations.storeMessage(i % 2 ? req('a', 'b', `m${i}`) : req('b', 'a', `m${i}`))));
  // concurrent sends: each recipient's queue holds exactly its five, in id order
  for (const u of ['a', 'b']) {
    const ids = (await w.conversations.syncStream(u, undefined, 100)).messages.map((m) => m.messageId);
    assert.equal(ids.length, 5);
    assert.deepEqual(ids, [...ids].sort());
  }
  await w.conversations.ensureConversation('c2', 'a', 'z');
  const page = await w.conversations.inbox('a', 1);
  assert.ok(page.cursor);
  assert.equal((await w.conversations.inbox('a', 1, page.cursor)).items.length, 1);
  await rejectsWith(w.conversations.inbox('b', 1, page.cursor), 400, 'invalid_cursor');
  w.clock.advance(60_000);
  assert.deepEqual((await w.conversations.syncStream('a', undefined, 100)).messages, []);
});

test('connections: frames leave through their contract, and a gone socket is forgotten on push', async () => {
  const w = fakeWorld();
  const [c1, c2] = [w.connections.open('u', 's'), w.connections.open('u', 's')];
  w.connections.gone.add(c1);
  const sent = await w.connections.push(['u', 'u'], { type: 'typing', from: 'v', conversationId: 'c', extra: 'stripped' } as never);
  assert.deepEqual(sent, { delivered: 1, gone: 1 });
  assert.deepEqual(await w.connections.openConnections('u'), [c2]);
  assert.deepEqual(w.connections.framesOn(c2), [{ type: 'typing', from: 'v', conversationId: 'c' }]);
  await assert.rejects(w.connections.push(['u'], { type: 'typing', from: 1 } as never), /does not match its contract/);
});
