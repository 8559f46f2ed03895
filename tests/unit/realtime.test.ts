// WebSocket sessions over in-memory ports: single-use tickets that expire on the clock, $connect
// re-checking the session behind the ticket, and presence told to partners only for a user's first
// and last connection, never across a block.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sendMessage } from '#core/conversations.ts';
import { authorizeTicket, connect, createTicket, disconnect } from '#core/realtime.ts';
import { addUser, authorizerDeps, fakeWorld, message, presenceDeps, rejectsWith, sendDeps, signIn, ticketDeps, type World } from '../support/fakes.ts';

const presence = (w: World, userId: string) => w.connections.framesFor(userId).filter((f) => (f as { type: string }).type === 'presence');

describe('tickets', () => {
  test('a ticket opens one connection for its user and session, once', async () => {
    const w = fakeWorld();
    const ada = await addUser(w);
    const auth = await signIn(w, ada.userId);
    const { ticket, expiresIn } = await createTicket(ticketDeps(w), auth);
    assert.equal(expiresIn, w.config.realtime.ticketTtlSeconds);
    const owner = await authorizeTicket(authorizerDeps(w), ticket);
    assert.deepEqual([owner?.userId, owner?.sessionId], [ada.userId, auth.sessionId]);
    assert.equal(await authorizeTicket(authorizerDeps(w), ticket), undefined);
    assert.equal(await authorizeTicket(authorizerDeps(w), 'not-a-ticket'), undefined);
  });

  test('a ticket works until its time-to-live has passed on the clock', async () => {
    const w = fakeWorld();
    const ada = await addUser(w);
    const auth = await signIn(w, ada.userId);
    const fresh = await createTicket(ticketDeps(w), auth);
    const stale = await createTicket(ticketDeps(w), auth);
    w.clock.advance(fresh.expiresIn * 1000 - 1);
    assert.equal((await authorizeTicket(authorizerDeps(w), fresh.ticket))?.userId, ada.userId);
    w.clock.advance(1);
    assert.equal(await authorizeTicket(authorizerDeps(w), stale.ticket), undefined);
  });

  test('a ticket of a session that ended, or of a banned user, opens nothing', async () => {
    const w = fakeWorld();
    const ada = await addUser(w);
    const bob = await addUser(w);
    const adaAuth = await signIn(w, ada.userId);
    const bobAuth = await signIn(w, bob.userId);
    const adaTicket = (await createTicket(ticketDeps(w), adaAuth)).ticket;
    const bobTicket = (await createTicket(ticketDeps(w), bobAuth)).ticket;
    await w.sessions.revoke(adaAuth.sessionId, 'logout');
    await w.users.update(bob.userId, { status: 'banned' });
    assert.equal(await authorizeTicket(authorizerDeps(w), adaTicket), undefined);
    assert.equal(await authorizeTicket(authorizerDeps(w), bobTicket), undefined);
  });
});

describe('connect and disconnect', () => {
  test('connect re-checks the session and removes the row when it died after the authorizer', async () => {
    const w = fakeWorld();
    const [ada, bob] = [await addUser(w), await addUser(w)];
    await sendMessage(sendDeps(w), ada.userId, bob.userId, message('presence-1'));
    const bobSocket = w.connections.open(bob.userId, 'bob-session');
    const auth = await signIn(w, ada.userId);
    const owner = await authorizeTicket(authorizerDeps(w), (await createTicket(ticketDeps(w), auth)).ticket);
    assert.ok(owner);
    await w.sessions.revoke(auth.sessionId, 'logout'); // logout lands between the authorizer and $connect
    await rejectsWith(connect(presenceDeps(w), { connectionId: 'c-1', connectedAt: w.clock.now() }, ada.userId, auth.sessionId), 401, 'token_revoked');
    assert.deepEqual(await w.connections.openConnections(ada.userId), []);
    assert.deepEqual(w.connections.framesOn(bobSocket), []);
  });

  test('a connection without a signed-in session is refused and not recorded', async () => {
    const w = fakeWorld();
    const ada = await addUser(w);
    await rejectsWith(connect(presenceDeps(w), { connectionId: 'c-1', connectedAt: w.clock.now() }, ada.userId, undefined), 401, 'not_signed_in');
    assert.equal(w.connections.rows.size, 0);
  });

  test('partners hear "online" for the first connection and "offline" after the last, with the clock’s time', async () => {
    const w = fakeWorld();
    const [ada, bob] = [await addUser(w), await addUser(w)];
    await sendMessage(sendDeps(w), ada.userId, bob.userId, message('presence-2'));
    w.connections.open(bob.userId, 'bob-session');
    const auth = await signIn(w, ada.userId);
    const at = (connectionId: string) => ({ connectionId, connectedAt: w.clock.now() });

    await connect(presenceDeps(w), at('c-1'), ada.userId, auth.sessionId);
    await connect(presenceDeps(w), at('c-2'), ada.userId, auth.sessionId);
    assert.deepEqual(presence(w, bob.userId), [{ type: 'presence', userId: ada.userId, status: 'online' }]);
    assert.deepEqual((await w.connections.openConnections(ada.userId)).sort(), ['c-1', 'c-2']);

    w.clock.advance(90_000);
    await disconnect(presenceDeps(w), 'c-1', ada.userId);
    assert.equal(presence(w, bob.userId).length, 1);
    w.clock.advance(30_000);
    await disconnect(presenceDeps(w), 'c-2', ada.userId);
    const lastSeen = new Date(w.clock.now()).toISOString();
    assert.deepEqual(presence(w, bob.userId).slice(1), [{ type: 'presence', userId: ada.userId, status: 'offline', lastSeen }]);
    assert.equal((await w.users.get(ada.userId))?.lastSeenAt, lastSeen);
    assert.deepEqual(await w.connections.openConnections(ada.userId), []);
  });

  test('presence never crosses a block, and strangers hear nothing', async () => {
    const w = fakeWorld();
    const [ada, bob, cy, dee] = [await addUser(w), await addUser(w), await addUser(w), await addUser(w)];
    await sendMessage(sendDeps(w), ada.userId, bob.userId, message('presence-3'));
    await sendMessage(sendDeps(w), ada.userId, cy.userId, message('presence-4'));
    await w.blocks.block(cy.userId, ada.userId);
    for (const u of [bob, cy, dee]) w.connections.open(u.userId, `s-${u.userId}`);
    const auth = await signIn(w, ada.userId);
    await connect(presenceDeps(w), { connectionId: 'c-1', connectedAt: w.clock.now() }, ada.userId, auth.sessionId);
    await disconnect(presenceDeps(w), 'c-1', ada.userId);
    assert.deepEqual(
      presence(w, bob.userId).map((f) => (f as { status: string }).status),
      ['online', 'offline'],
    );
    assert.deepEqual(presence(w, cy.userId), []);
    assert.deepEqual(presence(w, dee.userId), []);
  });

  test('presence goes to at most PRESENCE_FANOUT_MAX partners, those of the latest conversations, blocks still applied', async () => {
    const w = fakeWorld({ env: { PRESENCE_FANOUT_MAX: '3' } });
    assert.equal(w.config.realtime.presenceFanoutMax, 3);
    const ada = await addUser(w);
    const peers = [];
    for (let i = 0; i < 6; i++) {
      const peer = await addUser(w);
      peers.push(peer);
      w.clock.advance(1000);
      await sendMessage(sendDeps(w), ada.userId, peer.userId, message(`fanout-${i}`));
      w.connections.open(peer.userId, `s-${i}`);
    }
    // an older conversation becomes the latest again
    w.clock.advance(1000);
    await sendMessage(sendDeps(w), ada.userId, peers[0]!.userId, message('fanout-again'));
    assert.deepEqual(
      await w.conversations.partnersOf(ada.userId, 3),
      [peers[0], peers[5], peers[4]].map((p) => p!.userId),
    );
    await w.blocks.block(peers[5]!.userId, ada.userId);

    const auth = await signIn(w, ada.userId);
    await connect(presenceDeps(w), { connectionId: 'c-1', connectedAt: w.clock.now() }, ada.userId, auth.sessionId);
    await disconnect(presenceDeps(w), 'c-1', ada.userId);
    const heard = peers.map((p) => presence(w, p.userId).map((f) => (f as { status: string }).status));
    // the 3 latest are peers 0, 5 and 4; peer 5 blocked Ada, so only 2 hear, and nobody past the cap
    assert.deepEqual(heard, [['online', 'offline'], [], [], [], ['online', 'offline'], []]);
  });

  test('the last disconnect of a deleted account still cleans up quietly', async () => {
    const w = fakeWorld();
    const ada = await addUser(w);
    const auth = await signIn(w, ada.userId);
    await connect(presenceDeps(w), { connectionId: 'c-1', connectedAt: w.clock.now() }, ada.userId, auth.sessionId);
    await w.users.delete(ada);
    await disconnect(presenceDeps(w), 'c-1', ada.userId);
    assert.equal(w.connections.rows.size, 0);
    await disconnect(presenceDeps(w), 'never-signed-in', undefined);
  });
});
