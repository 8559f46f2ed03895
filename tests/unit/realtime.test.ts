// WebSocket sessions over in-memory ports: single-use tickets that expire on the clock, $connect
// re-checking the session behind the ticket, and presence told to partners only when a user comes
// online and after the offline grace (the presence queue and its worker), never across a block.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sendMessage } from '#core/conversations.ts';
import { authorizeTicket, connect, createTicket, disconnect, settleOffline } from '#core/realtime.ts';
import {
  addUser,
  authorizerDeps,
  departureDeps,
  fakeWorld,
  message,
  offlineWorkerDeps,
  presenceDeps,
  rejectsWith,
  sendDeps,
  signIn,
  ticketDeps,
  type World,
} from '../support/fakes.ts';

const presence = (w: World, userId: string) => w.connections.framesFor(userId).filter((f) => (f as { type: string }).type === 'presence');
const statuses = (w: World, userId: string) => presence(w, userId).map((f) => (f as { status: string }).status);

/** The grace passes: the presence queue hands what it holds to the offline worker. */
const settle = (w: World) => settleOffline(offlineWorkerDeps(w), w.presenceQueue.take());

/** A socket closes and the grace passes with nobody back. */
async function leave(w: World, connectionId: string, userId: string | undefined) {
  await disconnect(departureDeps(w), connectionId, userId);
  return settle(w);
}

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
    await leave(w, 'c-1', ada.userId);
    assert.equal(presence(w, bob.userId).length, 1);
    w.clock.advance(30_000);
    await disconnect(departureDeps(w), 'c-2', ada.userId);
    const lastSeen = new Date(w.clock.now()).toISOString();
    assert.equal(presence(w, bob.userId).length, 1, 'nothing before the grace has passed');
    assert.deepEqual(
      w.presenceQueue.sent.map((m) => m.delaySeconds),
      [w.config.realtime.presenceOfflineGraceSeconds],
    );
    w.clock.advance(10_000);
    await settle(w);
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
    await leave(w, 'c-1', ada.userId);
    assert.deepEqual(statuses(w, bob.userId), ['online', 'offline']);
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
    await leave(w, 'c-1', ada.userId);
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
    const settled = await leave(w, 'c-1', ada.userId);
    assert.deepEqual([settled.announced, settled.retry], [1, []]);
    assert.equal(w.connections.rows.size, 0);
    await leave(w, 'never-signed-in', undefined);
  });
});

describe('presence on reconnect storms (the offline grace)', () => {
  async function pair() {
    const w = fakeWorld();
    const [ada, bob] = [await addUser(w), await addUser(w)];
    await sendMessage(sendDeps(w), ada.userId, bob.userId, message(`grace-${ada.userId}`));
    w.connections.open(bob.userId, 'bob-session');
    const auth = await signIn(w, ada.userId);
    const open = (connectionId: string) => connect(presenceDeps(w), { connectionId, connectedAt: w.clock.now() }, ada.userId, auth.sessionId);
    return { w, ada, bob, open };
  }

  test('a socket that drops and comes back within the grace tells partners nothing; the final offline comes once', async () => {
    const { w, ada, bob, open } = await pair();
    await open('c-1');
    assert.deepEqual(statuses(w, bob.userId), ['online']);
    await disconnect(departureDeps(w), 'c-1', ada.userId);
    w.clock.advance(2_000);
    await open('c-2'); // back before the grace is over: the offline was never announced, so no online either
    const flap = await settle(w);
    assert.deepEqual([flap.announced, flap.stale], [0, 1], 'the queued offline is stale: the user came back');
    assert.deepEqual(statuses(w, bob.userId), ['online']);
    await leave(w, 'c-2', ada.userId);
    assert.deepEqual(statuses(w, bob.userId), ['online', 'offline']);
    await open('c-3'); // after an announced offline, online is news again
    assert.deepEqual(statuses(w, bob.userId), ['online', 'offline', 'online']);
  });

  test('back and gone again within the grace: only the last offline counts (the epoch moved)', async () => {
    const { w, ada, bob, open } = await pair();
    await open('c-1');
    await disconnect(departureDeps(w), 'c-1', ada.userId);
    await open('c-2');
    await disconnect(departureDeps(w), 'c-2', ada.userId);
    const [first, second] = w.presenceQueue.take();
    assert.deepEqual((await settleOffline(offlineWorkerDeps(w), [first!])).stale, 1);
    assert.deepEqual(statuses(w, bob.userId), ['online']);
    assert.deepEqual((await settleOffline(offlineWorkerDeps(w), [second!])).announced, 1);
    assert.deepEqual(statuses(w, bob.userId), ['online', 'offline']);
  });

  test('two sockets opening together announce online once', async () => {
    const { w, bob, open } = await pair();
    await Promise.all([open('c-1'), open('c-2'), open('c-3')]);
    assert.deepEqual(statuses(w, bob.userId), ['online']);
  });

  test('a redelivered message sends nothing twice (the claim is conditional)', async () => {
    const { w, ada, bob, open } = await pair();
    await open('c-1');
    await disconnect(departureDeps(w), 'c-1', ada.userId);
    const batch = w.presenceQueue.take();
    const once = await settleOffline(offlineWorkerDeps(w), batch);
    const again = await settleOffline(offlineWorkerDeps(w), batch);
    assert.deepEqual([once.announced, again.announced, again.stale, again.retry], [1, 0, 1, []]);
    assert.deepEqual(statuses(w, bob.userId), ['online', 'offline']);
  });

  test('a socket whose $disconnect was lost is pruned by the next one, so it cannot pin the user online', async () => {
    const { w, ada, bob, open } = await pair();
    await open('c-1');
    await open('c-2');
    w.connections.gone.add('c-2'); // the client vanished; its $disconnect never came
    w.clock.advance(120_000);
    await leave(w, 'c-1', ada.userId);
    assert.equal(w.connections.lookups, 1, 'one @connections lookup for the id left in the set');
    assert.deepEqual(statuses(w, bob.userId), ['online', 'offline']);
    assert.ok(!w.connections.rows.has('c-2'), 'and its row is gone too');
    assert.deepEqual(w.connections.sockets.get(ada.userId)?.ids, []);
  });

  test('a socket still in its $connect (410 at @connections, but young) is not pruned', async () => {
    const { w, ada, bob, open } = await pair();
    await open('c-1');
    w.clock.advance(120_000);
    await open('c-2');
    w.connections.gone.add('c-2'); // what @connections answers while c-2's $connect has not returned
    await disconnect(departureDeps(w), 'c-1', ada.userId);
    assert.deepEqual(w.connections.sockets.get(ada.userId)?.ids, ['c-2']);
    assert.deepEqual(w.presenceQueue.sent, [], 'no offline: a socket is opening');
    assert.deepEqual(statuses(w, bob.userId), ['online']);
  });

  test('a connect refused by the session check never claimed online, so its disconnect queues nothing', async () => {
    const { w, ada, bob } = await pair();
    const auth = await signIn(w, ada.userId);
    await w.sessions.revoke(auth.sessionId, 'logout');
    await rejectsWith(connect(presenceDeps(w), { connectionId: 'c-1', connectedAt: w.clock.now() }, ada.userId, auth.sessionId), 401, 'token_revoked');
    await disconnect(departureDeps(w), 'c-1', ada.userId);
    assert.deepEqual(w.presenceQueue.sent, []);
    assert.deepEqual(statuses(w, bob.userId), []);
  });

  test('a claim that fails (throttled) is retried; a malformed message is dropped', async () => {
    const { w, ada, bob, open } = await pair();
    await open('c-1');
    await disconnect(departureDeps(w), 'c-1', ada.userId);
    const [m] = w.presenceQueue.take();
    const failing = {
      ...offlineWorkerDeps(w),
      socketSets: { claimOffline: () => Promise.reject(new Error('throttled')) },
    };
    const first = await settleOffline(failing, [m!, { id: 'junk', body: '{"userId":1}', receiveCount: 1 }]);
    assert.deepEqual([first.retry, first.malformed, first.announced], [[m!.id], 1, 0]);
    assert.deepEqual((await settleOffline(offlineWorkerDeps(w), [{ ...m!, receiveCount: 2 }])).announced, 1);
    assert.deepEqual(statuses(w, bob.userId), ['online', 'offline']);
  });
});
