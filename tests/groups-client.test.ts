// Group conversations through the client SDK, against the real local gateway: a group of three where
// every member opens what the others send (socket and HTTP, live and from history), a stale member
// set that the SDK re-wraps and resends once by itself, and a removed member who gets nothing new
// and could not open it anyway.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiError, NexChatClient, generateDeviceKeys, openGroupMessage, publicKeyUpload, type DeviceKeys } from '../client/index.ts';
import type { Runtime } from '../local/runtime.ts';
import { lastCode, uniqueEmail } from './support/identity.ts';
import { startTestRuntime } from './support/runtime.ts';

let rt: Runtime;
const sockets: WebSocket[] = [];
before(async () => {
  rt = await startTestRuntime();
});
after(async () => {
  for (const s of sockets) s.close();
  await rt?.stop();
});

interface Member {
  client: NexChatClient;
  userId: string;
  keys: DeviceKeys;
  /** Every path the client called, as `METHOD /path` (with the body for group sends). */
  calls: string[];
  /** Runs before each group send reaches the gateway (a test's way to race it). */
  beforeGroupSend?: () => Promise<void>;
}

async function member(name: string): Promise<Member> {
  const calls: string[] = [];
  const f: typeof fetch = async (input, init) => {
    const path = new URL(String(input)).pathname;
    const groupSend = /^\/api\/groups\/[^/]+\/messages$/.test(path);
    calls.push(`${init?.method ?? 'GET'} ${path}${groupSend ? ` ${init?.body}` : ''}`);
    if (groupSend) await m.beforeGroupSend?.();
    return fetch(input, init);
  };
  const client = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl, fetch: f });
  const email = uniqueEmail('group-sdk');
  await client.requestOtp('email', email, 'register');
  const user = await client.register({ email, displayName: name, password: 'client-side-secret-1', code: await lastCode(rt, email, 'register') });
  const keys = generateDeviceKeys();
  await client.request('PUT', '/api/users/public-key', publicKeyUpload(keys));
  const m: Member = { client, userId: user.userId, keys, calls };
  return m;
}

/** Every frame of a socket, in order, and a way to wait for one of a type. */
async function socketOf(m: Member) {
  const ws = await m.client.connect();
  sockets.push(ws);
  const got: any[] = [];
  ws.addEventListener('message', (e) => got.push(JSON.parse(String(e.data))));
  return {
    ws,
    got,
    async next(type: string, ms = 5000): Promise<any> {
      const deadline = Date.now() + ms;
      for (;;) {
        const i = got.findIndex((f) => f.type === type);
        if (i >= 0) return got.splice(i, 1)[0];
        if (Date.now() > deadline) throw new Error(`no ${type} frame (got ${got.map((f) => f.type).join(', ')})`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

type Socket = Awaited<ReturnType<typeof socketOf>>;

/** A group made by `admin` with everyone in `others` invited, found and accepted through the SDK. */
async function groupOf(admin: Member, name: string, others: Member[]): Promise<string> {
  const g = await admin.client.createGroup(
    name,
    others.map((o) => o.userId),
  );
  for (const o of others) {
    const { invitations } = await o.client.groupInvitations();
    assert.deepEqual(
      invitations.map((i) => [i.conversationId, i.name, i.inviterId]),
      [[g, name, admin.userId]],
    );
    const joined = await o.client.acceptInvitation(g);
    assert.equal(joined.conversationId, g);
  }
  return g;
}

const texts = async (m: Member, g: string) => {
  const page = await m.client.request('GET', `/api/conversations/${g}/messages`);
  return Promise.all(page.messages.filter((x: { event?: unknown }) => !x.event).map((x: any) => m.client.openGroupMessage(x, m.keys)));
};

const groupSends = (m: Member) => m.calls.filter((c) => /^POST \/api\/groups\/[^/]+\/messages /.test(c)).map((c) => JSON.parse(c.slice(c.indexOf(' {') + 1)));

describe('a group of three through the SDK', () => {
  test('create, invite, accept; each member opens what the others send, live and from history; only members can', async () => {
    const [ann, bob, cat] = (await Promise.all(['Ann', 'Bob', 'Cat'].map(member))) as [Member, Member, Member];
    const g = await groupOf(ann, 'Climbing', [bob, cat]);
    const view = await ann.client.group(g);
    assert.equal(view.role, 'admin');
    assert.deepEqual(view.members.map((m) => [m.userId, m.role, m.keyVersion]).sort(), [
      ...[
        [ann.userId, 'admin', 1],
        [bob.userId, 'member', 1],
        [cat.userId, 'member', 1],
      ].sort(),
    ]);
    assert.deepEqual(await ann.client.renameGroup(g, 'Bouldering'), { conversationId: g, name: 'Bouldering' });
    await ann.client.setGroupRole(g, bob.userId, 'admin');
    assert.equal((await bob.client.group(g)).role, 'admin');
    await bob.client.setGroupRole(g, bob.userId, 'member');

    const [sa, sb, sc] = (await Promise.all([ann, bob, cat].map(socketOf))) as [Socket, Socket, Socket];
    // Ann over her socket: the SDK waits for the ack
    const ack = await ann.client.sendGroupMessage(g, 'top rope at six?', ann.keys, { socket: sa.ws });
    assert.equal(ack.conversationId, g);
    const [toBob, toCat] = [await sb.next('message'), await sc.next('message')];
    assert.equal(toBob.messageId, ack.messageId);
    assert.equal(await bob.client.openGroupMessage(toBob, bob.keys), 'top rope at six?');
    assert.equal(await cat.client.openGroupMessage(toCat, cat.keys), 'top rope at six?');
    assert.equal(toBob.key.keyVersion, 1);
    assert.notEqual(toBob.key.wrappedKey, toCat.key.wrappedKey, 'each member gets only its own wrapped key');
    // Bob over HTTP (no socket): Ann and Cat get it live
    await bob.client.sendGroupMessage(g, 'yes, bring the blue rope', bob.keys);
    assert.equal(await ann.client.openGroupMessage(await sa.next('message'), ann.keys), 'yes, bring the blue rope');
    assert.equal(await cat.client.openGroupMessage(await sc.next('message'), cat.keys), 'yes, bring the blue rope');
    // Cat twice in a row on one socket: both acked, in order
    const [c1, c2] = await Promise.all([
      cat.client.sendGroupMessage(g, 'see you', cat.keys, { socket: sc.ws }),
      cat.client.sendGroupMessage(g, 'there', cat.keys, { socket: sc.ws }),
    ]);
    assert.notEqual(c1.messageId, c2.messageId);

    for (const m of [ann, bob, cat]) {
      assert.deepEqual((await texts(m, g)).sort(), ['see you', 'there', 'top rope at six?', 'yes, bring the blue rope'].sort(), `history of ${m.userId}`);
    }
    // a copy is bound to its reader: Cat's keys open nothing of Bob's copy; a stranger's keys open nothing
    assert.equal(openGroupMessage(toBob, (await cat.client.publicKey(ann.userId)).publicKey, cat.keys), null);
    assert.equal(await bob.client.openGroupMessage(toBob, generateDeviceKeys()), null);
    assert.equal(await bob.client.openGroupMessage({ ...toBob, key: undefined }, bob.keys), null);
  });
});

describe('a stale member set', () => {
  test('a new member and a rotated key: members_changed, one re-wrap, one resend with the same clientMessageId', async () => {
    const [ann, bob, cat, dan] = (await Promise.all(['Ann', 'Bob', 'Cat', 'Dan'].map(member))) as [Member, Member, Member, Member];
    const g = await groupOf(ann, 'Hikers', [bob, cat]);
    await ann.client.group(g); // Ann's SDK now knows Ann, Bob and Cat at version 1
    // behind Ann's back: Dan joins, Bob publishes a new key (version 2)
    await ann.client.inviteToGroup(g, [dan.userId]);
    await dan.client.acceptInvitation(g);
    const bobNew = generateDeviceKeys();
    await bob.client.request('PUT', '/api/users/public-key', publicKeyUpload(bobNew));

    ann.calls.length = 0;
    const ack = await ann.client.sendGroupMessage(g, 'trail closed, plan B', ann.keys);
    const [first, second] = groupSends(ann);
    assert.equal(groupSends(ann).length, 2, 'refused once, then accepted');
    assert.equal(first.clientMessageId, second.clientMessageId);
    assert.equal(ack.clientMessageId, first.clientMessageId);
    assert.deepEqual(Object.keys(first.keys).sort(), [ann.userId, bob.userId, cat.userId].sort());
    assert.deepEqual(Object.keys(second.keys).sort(), [ann.userId, bob.userId, cat.userId, dan.userId].sort());
    assert.equal(second.keys[bob.userId].keyVersion, 2);
    assert.equal(second.ciphertext, first.ciphertext, 're-wrapped, not re-encrypted');
    assert.ok(ann.calls.includes(`GET /api/users/${bob.userId}/public-key`), "Bob's new key was fetched");

    assert.deepEqual(await texts(dan, g), ['trail closed, plan B']);
    assert.deepEqual(await texts(cat, g), ['trail closed, plan B']);
    const bobWithNewKeys = { ...bob, keys: bobNew };
    assert.deepEqual(await texts(bobWithNewKeys, g), ['trail closed, plan B']);
    assert.deepEqual(await texts(bob, g), [null], "Bob's old key does not open what was wrapped to the new one");

    // the next send wraps for the set the SDK learned: accepted at once
    ann.calls.length = 0;
    await ann.client.sendGroupMessage(g, 'meet at the car park', ann.keys);
    assert.equal(groupSends(ann).length, 1);

    // over the socket too: Dan leaves, Ann's send is refused once, re-wrapped and acked
    const sa = await socketOf(ann);
    const sd = await socketOf(dan);
    await dan.client.leaveGroup(g);
    const viaSocket = await ann.client.sendGroupMessage(g, 'Dan is out', ann.keys, { socket: sa.ws });
    assert.equal(viaSocket.conversationId, g);
    assert.deepEqual(
      sa.got.filter((f) => f.type === 'error').map((f) => [f.code, Object.keys(f.details).sort()]),
      [['members_changed', [ann.userId, bob.userId, cat.userId].sort()]],
      'the socket send was refused once, then re-wrapped',
    );
    assert.ok((await texts(cat, g)).includes('Dan is out'));
    assert.equal(
      sd.got.some((f) => f.type === 'message'),
      false,
    );
  });

  test('a member set still wrong after the one resend is thrown as members_changed, with the current members', async () => {
    const [ann, bob] = (await Promise.all(['Ann', 'Bob'].map(member))) as [Member, Member];
    const g = await groupOf(ann, 'Racing', [bob]);
    await ann.client.group(g);
    ann.calls.length = 0;
    // every send (first and resend) sees Bob rotate just before it: the SDK gives up after one resend
    ann.beforeGroupSend = async () => void (await bob.client.request('PUT', '/api/users/public-key', publicKeyUpload(generateDeviceKeys())));
    await assert.rejects(ann.client.sendGroupMessage(g, 'never', ann.keys), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 409);
      assert.equal(e.code, 'members_changed');
      assert.deepEqual(e.details, { [ann.userId]: 1, [bob.userId]: 3 });
      return true;
    });
    assert.equal(groupSends(ann).length, 2, 'one resend, no more');
  });
});

describe('a removed member', () => {
  test('gets no new message, is not served it by history or sync, and could not open it', async () => {
    const [ann, bob, cat] = (await Promise.all(['Ann', 'Bob', 'Cat'].map(member))) as [Member, Member, Member];
    const g = await groupOf(ann, 'Book club', [bob, cat]);
    const [sa, sb, sc] = (await Promise.all([ann, bob, cat].map(socketOf))) as [Socket, Socket, Socket];
    await ann.client.sendGroupMessage(g, 'chapter one', ann.keys, { socket: sa.ws });
    assert.equal(await cat.client.openGroupMessage(await sc.next('message'), cat.keys), 'chapter one');
    await sb.next('message');

    await ann.client.removeGroupMember(g, cat.userId);
    assert.equal((await sc.next('groupUpdated')).event, 'removed');
    await ann.client.sendGroupMessage(g, 'chapter two, without Cat', ann.keys, { socket: sa.ws });
    const toBob = await sb.next('message');
    assert.equal(await bob.client.openGroupMessage(toBob, bob.keys), 'chapter two, without Cat');
    assert.deepEqual(Object.keys(toBob.key), ['wrappedKey', 'nonce', 'keyVersion']);

    await new Promise((r) => setTimeout(r, 200)); // Bob's push went out; Cat's would have too
    assert.equal(
      sc.got.some((f) => f.type === 'message'),
      false,
      'no frame for Cat',
    );
    await assert.rejects(cat.client.request('GET', `/api/conversations/${g}/messages`), (e: unknown) => e instanceof ApiError && e.status === 404);
    await assert.rejects(cat.client.group(g), (e: unknown) => e instanceof ApiError && e.status === 404);
    const synced = await cat.client.request('GET', '/api/messages/sync');
    assert.equal(
      synced.messages.some((m: { messageId: string }) => m.messageId === toBob.messageId),
      false,
      'not in sync',
    );
    // even holding Bob's copy (a leak), Cat's keys do not open it: no key was wrapped for Cat
    assert.equal(await cat.client.openGroupMessage(toBob, cat.keys), null);
    // and Cat cannot send into the group any more
    await assert.rejects(cat.client.sendGroupMessage(g, 'let me back', cat.keys), (e: unknown) => e instanceof ApiError && e.status === 404);
  });
});
