// The attacker's sweep of linked devices (issue 11) and the reworked 1:1 send path: real handlers
// behind the real local gateway and DynamoDB Local. Each test tries one attack and asserts the exact
// refusal and that nothing changed; the ones that found a flaw were written failing first.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { BatchWriteCommand, GetCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import nacl from 'tweetnacl';
import type { Runtime } from '../local/runtime.ts';
import { captureOutput } from './support/capture.ts';
import { bearer, connectAs, lastCode, me, refreshWith, requestCode, signUp, type Account } from './support/identity.ts';
import { openSocket, request, startTestRuntime, type HttpReply, type TestSocket } from './support/runtime.ts';

let rt: Runtime;
const MAX_DEVICES = 3;
const sockets: TestSocket[] = [];
type TableName = Parameters<Runtime['db']['table']>[0];

before(async () => {
  rt = await startTestRuntime({ DEVICES_MAX: String(MAX_DEVICES) });
});
after(async () => {
  await Promise.all(sockets.map((s) => s.close().catch(() => undefined)));
  await rt?.stop();
});

const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
const call = (token: string | undefined, method: string, path: string, body?: unknown, runtime = rt) =>
  request(runtime.httpUrl, method, path, { ...(token ? { headers: bearer(token) } : {}), ...(body === undefined ? {} : { body }) });
const devices = async (token: string) => {
  const r = await call(token, 'GET', '/api/devices');
  assert.equal(r.status, 200, r.text);
  return r.json.devices as { deviceId: string; name: string; current: boolean }[];
};
const sidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')).sid as string;

async function loginDevice(a: Account, deviceName?: string) {
  const r = await request(rt.httpUrl, 'POST', '/api/auth/login', { body: { email: a.email, password: a.password, ...(deviceName ? { deviceName } : {}) } });
  assert.equal(r.status, 200, r.text);
  return r.json as { accessToken: string; refreshToken: string };
}

async function newDevice(runtime = rt, deviceName = 'New phone') {
  const keys = nacl.box.keyPair();
  const r = await call(undefined, 'POST', '/api/devices/links', { publicKey: b64(keys.publicKey), deviceName }, runtime);
  assert.equal(r.status, 201, r.text);
  return { keys, publicKey: b64(keys.publicKey), linkId: r.json.linkId as string, linkSecret: r.json.linkSecret as string };
}

function box(toPublicKey: string, secret = 'account keys') {
  const sender = nacl.box.keyPair();
  const nonce = nacl.randomBytes(24);
  const ciphertext = nacl.box(new TextEncoder().encode(secret), nonce, Buffer.from(toPublicKey, 'base64'), sender.secretKey);
  return { ciphertext: b64(ciphertext), nonce: b64(nonce), publicKey: b64(sender.publicKey) };
}

const approve = (token: string, linkId: string, body: Record<string, unknown>) => call(token, 'POST', `/api/devices/links/${linkId}/approve`, body);
const claim = (linkId: string, linkSecret: string, runtime = rt) => call(undefined, 'POST', `/api/devices/links/${linkId}/claim`, { linkSecret }, runtime);

function refusedClaim(r: HttpReply, why: string): void {
  assert.equal(r.status, 404, `${why}: ${r.text}`);
  assert.deepEqual(r.json, { error: { code: 'link_not_found', message: 'No such link request, or it expired or was used' } }, why);
}

async function linkItem(linkId: string) {
  return (await rt.db.doc.send(new GetCommand({ TableName: rt.db.table('ephemeral'), Key: { pk: `DEVLINK#${linkId}`, sk: 'LINK' }, ConsistentRead: true })))
    .Item;
}

async function items(table: TableName, pk: string) {
  return (
    (await rt.db.doc.send(new QueryCommand({ TableName: rt.db.table(table), KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } })))
      .Items ?? []
  );
}

async function dump(table: TableName) {
  return JSON.stringify((await rt.db.doc.send(new ScanCommand({ TableName: rt.db.table(table), ConsistentRead: true }))).Items ?? []);
}

// ---- tokens -----------------------------------------------------------------------------------------

describe('forged, expired and other users’ tokens on the device routes', () => {
  test('alg none, a re-signed payload, a swapped subject and an expired token: 401 everywhere, nothing changes', async () => {
    const a = await signUp(rt);
    const victim = await signUp(rt);
    const [head, payload, sig] = a.accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const forged = {
      none: `${enc({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      otherSub: `${head}.${enc({ ...claims, sub: victim.userId, sid: sidOf(victim.accessToken) })}.${sig}`,
      badSig: `${head}.${payload}.${sig.slice(0, -4)}AAAA`,
    };
    const victimDevice = (await devices(victim.accessToken))[0]!;
    const n = await newDevice();
    const before = await dump('sessions');
    const attempts = (token: string) => [
      call(token, 'GET', '/api/devices'),
      call(token, 'PATCH', `/api/devices/${victimDevice.deviceId}`, { name: 'pwned' }),
      call(token, 'DELETE', `/api/devices/${victimDevice.deviceId}`, { password: victim.password }),
      call(token, 'GET', `/api/devices/links/${n.linkId}`),
      approve(token, n.linkId, { ...box(n.publicKey), password: victim.password }),
    ];
    for (const [what, token] of Object.entries(forged)) {
      for (const r of await Promise.all(attempts(token))) assert.equal(r.status, 401, `${what}: ${r.text}`);
    }
    rt.clock.advance(16 * 60_000); // access tokens live 15 minutes
    for (const r of await Promise.all(attempts(a.accessToken))) assert.equal(r.status, 401, `expired: ${r.text}`);
    assert.equal(await dump('sessions'), before, 'no session or device changed');
    assert.equal((await linkItem(n.linkId))?.approval, undefined, 'the link is not approved');
  });
});

// ---- other users' ids ---------------------------------------------------------------------------------

describe('other users’ device ids and link ids', () => {
  test('renaming or revoking another user’s device, with the attacker’s own valid proof: 404 and nothing changes', async () => {
    const victim = await signUp(rt);
    const attacker = await signUp(rt);
    const target = (await devices(victim.accessToken))[0]!;
    const before = await dump('sessions');
    const del = await call(attacker.accessToken, 'DELETE', `/api/devices/${target.deviceId}`, { password: attacker.password });
    assert.equal(del.status, 404, del.text);
    assert.equal(del.json.error.code, 'device_not_found');
    const ren = await call(attacker.accessToken, 'PATCH', `/api/devices/${target.deviceId}`, { name: 'pwned' });
    assert.equal(ren.status, 404, ren.text);
    assert.equal(ren.json.error.code, 'device_not_found');
    assert.equal(await dump('sessions'), before);
    assert.equal((await me(rt, victim.accessToken)).status, 200);
  });

  test('a device id check needs the proof first: without the password nobody learns whether an id exists', async () => {
    const victim = await signUp(rt);
    const attacker = await signUp(rt);
    const target = (await devices(victim.accessToken))[0]!;
    const known = await call(attacker.accessToken, 'DELETE', `/api/devices/${target.deviceId}`, { password: 'wrong-password-123' });
    const unknown = await call(attacker.accessToken, 'DELETE', `/api/devices/${randomUUID()}`, { password: 'wrong-password-123' });
    assert.equal(known.status, 403);
    assert.deepEqual(known.json, unknown.json, 'the same refusal for an existing and a made-up id');
  });

  test('approving a link already approved by another account is refused, and viewing it says nothing about who', async () => {
    const a = await signUp(rt);
    const b = await signUp(rt);
    const n = await newDevice();
    const [ra, rb] = await Promise.all([
      approve(a.accessToken, n.linkId, { ...box(n.publicKey, 'a keys'), password: a.password }),
      approve(b.accessToken, n.linkId, { ...box(n.publicKey, 'b keys'), password: b.password }),
    ]);
    const statuses = [ra.status, rb.status].sort();
    assert.deepEqual(statuses, [204, 404], `racing approvals: ${ra.text} ${rb.text}`);
    const winner = ra.status === 204 ? a : b;
    const loser = ra.status === 204 ? b : a;
    const seen = await call(loser.accessToken, 'GET', `/api/devices/links/${n.linkId}`);
    assert.equal(seen.status, 404);
    assert.deepEqual(seen.json.error.code, 'link_not_found');
    const claimed = await claim(n.linkId, n.linkSecret);
    assert.equal(claimed.status, 200, claimed.text);
    assert.equal(claimed.json.user.userId, winner.userId, 'the box and session of the account whose approval won');
  });
});

// ---- the device limit ---------------------------------------------------------------------------------

describe('the device limit', () => {
  test('several links approved before any is claimed cannot take the account past DEVICES_MAX', async () => {
    const a = await signUp(rt);
    await loginDevice(a); // two devices of three
    const links = [await newDevice(), await newDevice(), await newDevice()];
    for (const n of links) {
      const r = await approve(a.accessToken, n.linkId, { ...box(n.publicKey), password: a.password });
      assert.equal(r.status, 204, `each approval sees two devices: ${r.text}`);
    }
    const answers = [];
    for (const n of links) answers.push(await claim(n.linkId, n.linkSecret));
    assert.equal(answers[0]!.status, 200, answers[0]!.text);
    for (const r of answers.slice(1)) {
      assert.equal(r.status, 409, `a claim past the limit: ${r.text}`);
      assert.equal(r.json.error.code, 'device_limit');
      assert.equal(r.json.accessToken, undefined);
    }
    assert.equal((await devices(a.accessToken)).length, MAX_DEVICES, 'never more than the limit');
    // the refused links are not spent: once a device goes, the new one can still claim
    const extra = (await devices(a.accessToken)).find((d) => !d.current)!;
    assert.equal((await call(a.accessToken, 'DELETE', `/api/devices/${extra.deviceId}`, { password: a.password })).status, 204);
    assert.equal((await claim(links[1]!.linkId, links[1]!.linkSecret)).status, 200);
  });

  test('concurrent claims of links approved at one below the limit: at most one gets a live session', async () => {
    const a = await signUp(rt);
    await loginDevice(a); // two devices of three
    const links = [await newDevice(), await newDevice(), await newDevice(), await newDevice()];
    for (const n of links) assert.equal((await approve(a.accessToken, n.linkId, { ...box(n.publicKey), password: a.password })).status, 204);
    const answers = await Promise.all(links.map((n) => claim(n.linkId, n.linkSecret)));
    const won = answers.filter((r) => r.status === 200);
    assert.ok(won.length <= 1, `${won.length} claims won: ${answers.map((r) => r.status).join(',')}`);
    for (const r of answers.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 409, r.text);
      assert.equal(r.json.error.code, 'device_limit');
    }
    assert.ok((await devices(a.accessToken)).length <= MAX_DEVICES, 'never more than the limit');
    const alive = await Promise.all(answers.map((r) => (r.status === 200 ? me(rt, r.json.accessToken) : undefined)));
    assert.ok(
      alive.every((r) => r === undefined || r.status === 200),
      'a claim that was answered 200 keeps its session',
    );
  });
});

// ---- revocation ----------------------------------------------------------------------------------------

describe('a revoked device', () => {
  test('its queued ticket, refresh token, rotated refresh token and socket are all dead', async () => {
    const a = await signUp(rt);
    const laptop = await loginDevice(a, 'Laptop');
    const laptopSocket = await connectAs(rt, laptop.accessToken);
    sockets.push(laptopSocket);
    const ticket = await call(laptop.accessToken, 'POST', '/api/ws/ticket');
    assert.equal(ticket.status, 201);
    const rotated = await refreshWith(rt, laptop.refreshToken);
    assert.equal(rotated.status, 200);
    const laptopId = (await devices(a.accessToken)).find((d) => !d.current)!.deviceId;
    assert.equal((await call(a.accessToken, 'DELETE', `/api/devices/${laptopId}`, { password: a.password })).status, 204);

    assert.equal((await laptopSocket.next((f) => f.type === 'error')).code, 'device_revoked');
    await laptopSocket.closed;
    await assert.rejects(openSocket(`${rt.wsUrl}/?ticket=${ticket.json.ticket}`), (e: { status?: number }) => e.status === 401, 'the queued ticket');
    assert.equal((await refreshWith(rt, laptop.refreshToken)).status, 401, 'the old refresh token');
    assert.equal((await refreshWith(rt, rotated.json.refreshToken)).status, 401, 'the rotated refresh token');
    assert.equal((await me(rt, rotated.json.accessToken)).status, 401, 'the rotated access token');
    assert.equal((await devices(a.accessToken)).length, 1);
  });

  test('racing revocations of one device: no error, the device is gone once, the others stay', async () => {
    const a = await signUp(rt);
    const other = await loginDevice(a);
    const otherId = (await devices(a.accessToken)).find((d) => !d.current)!.deviceId;
    const answers = await Promise.all(Array.from({ length: 5 }, () => call(a.accessToken, 'DELETE', `/api/devices/${otherId}`, { password: a.password })));
    for (const r of answers) assert.ok([204, 404].includes(r.status), r.text);
    assert.ok(answers.some((r) => r.status === 204));
    assert.equal((await me(rt, other.accessToken)).status, 401);
    assert.equal((await me(rt, a.accessToken)).status, 200);
  });

  test('a revoked device cannot approve a link it was shown (its token died with it)', async () => {
    const a = await signUp(rt);
    const tablet = await loginDevice(a, 'Tablet');
    const n = await newDevice();
    const tabletId = (await devices(a.accessToken)).find((d) => !d.current)!.deviceId;
    assert.equal((await call(a.accessToken, 'DELETE', `/api/devices/${tabletId}`, { password: a.password })).status, 204);
    const r = await approve(tablet.accessToken, n.linkId, { ...box(n.publicKey), password: a.password });
    assert.equal(r.status, 401, r.text);
    assert.equal((await linkItem(n.linkId))?.approval, undefined);
  });
});

// ---- link secrets -----------------------------------------------------------------------------------------

describe('link secrets', () => {
  test('guessing: a secret off by one character is the same 404 as a random one and spends nothing', async () => {
    const a = await signUp(rt);
    const n = await newDevice();
    assert.equal((await approve(a.accessToken, n.linkId, { ...box(n.publicKey), password: a.password })).status, 204);
    const flip = (s: string) => s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A');
    refusedClaim(await claim(n.linkId, flip(n.linkSecret)), 'last character changed');
    refusedClaim(await claim(n.linkId, n.linkSecret.toUpperCase() === n.linkSecret ? flip(n.linkSecret) : n.linkSecret.toUpperCase()), 'case changed');
    const stored = await linkItem(n.linkId);
    assert.ok(stored?.approval, 'still approved and unclaimed');
    assert.ok(!JSON.stringify(stored).includes(n.linkSecret));
    assert.equal((await claim(n.linkId, n.linkSecret)).status, 200);
  });

  test('malformed secrets, proofs and boxes never reach a log line', async () => {
    const a = await signUp(rt);
    const n = await newDevice();
    const sealed = box(n.publicKey);
    const longSecret = `${n.linkSecret}Zq`;
    const wrongPassword = `wrong-${randomBytes(6).toString('hex')}`;
    const logs = await captureOutput(async () => {
      assert.equal((await claim(n.linkId, longSecret)).status, 400);
      assert.equal((await call(undefined, 'POST', `/api/devices/links/${n.linkId}/claim`, { linkSecret: n.linkSecret, extra: n.linkSecret })).status, 400);
      assert.equal((await approve(a.accessToken, n.linkId, { ...sealed, password: wrongPassword })).status, 403);
      assert.equal((await approve(a.accessToken, n.linkId, { ...sealed, password: [wrongPassword] })).status, 400);
      assert.equal((await approve(a.accessToken, n.linkId, { ...sealed, nonce: sealed.ciphertext, password: a.password })).status, 400);
    }, 'DEBUG');
    for (const [what, value] of Object.entries({ secret: n.linkSecret, wrongPassword, password: a.password, ciphertext: sealed.ciphertext.slice(4, 40) })) {
      assert.ok(!logs.includes(value), `${what} in the logs`);
    }
  });
});

// ---- malformed and oversized payloads on the new routes ---------------------------------------------------

describe('malformed and oversized payloads on the device routes', () => {
  test('refused with 400/413, and nothing is written to the link table', async () => {
    const a = await signUp(rt);
    const n = await newDevice();
    const before = await dump('ephemeral');
    const key = n.publicKey;
    const cases: [string, Promise<HttpReply>, number[]][] = [
      ['key of 31 bytes', call(undefined, 'POST', '/api/devices/links', { publicKey: b64(new Uint8Array(31)), deviceName: 'x' }), [400]],
      ['url-safe key', call(undefined, 'POST', '/api/devices/links', { publicKey: key.replace(/=$/, ''), deviceName: 'x' }), [400]],
      ['huge name', call(undefined, 'POST', '/api/devices/links', { publicKey: key, deviceName: 'x'.repeat(100_000) }), [400, 413]],
      ['bidi name', call(undefined, 'POST', '/api/devices/links', { publicKey: key, deviceName: 'evil\u202Eenohp' }), [400]],
      ['proto key', call(undefined, 'POST', '/api/devices/links', JSON.parse(`{"publicKey":"${key}","deviceName":"x","__proto__":{"admin":true}}`)), [400]],
      ['box over 8 KB', approve(a.accessToken, n.linkId, { ...box(key), ciphertext: b64(new Uint8Array(9000)), password: a.password }), [400]],
      ['box over 10 MB', approve(a.accessToken, n.linkId, { ...box(key), ciphertext: 'A'.repeat(11 * 1024 * 1024), password: a.password }), [413]],
      ['uppercase link id', call(a.accessToken, 'GET', `/api/devices/links/${n.linkId.toUpperCase()}`), [400]],
      ['link id with a suffix', claim(`${n.linkId}0`, n.linkSecret), [400]],
      ['device id not a uuid', call(a.accessToken, 'PATCH', '/api/devices/..%2F..%2Fusers', { name: 'x' }), [400, 404]],
    ];
    for (const [what, reply, allowed] of cases) {
      const r = await reply;
      assert.ok(allowed.includes(r.status), `${what}: ${r.status} ${r.text.slice(0, 200)}`);
    }
    assert.equal(await dump('ephemeral'), before, 'no link created or changed');
  });
});

// ---- the 1:1 send path -------------------------------------------------------------------------------------

interface Person extends Account {
  box: nacl.BoxKeyPair;
}
const person = async (): Promise<Person> => ({ ...(await signUp(rt)), box: nacl.box.keyPair() });
async function device(p: Account): Promise<TestSocket> {
  const s = await connectAs(rt, p.accessToken);
  sockets.push(s);
  return s;
}
function sendFrame(to: { userId: string }, clientMessageId = randomUUID()) {
  const nonce = nacl.randomBytes(24);
  return {
    action: 'sendMessage',
    to: to.userId,
    clientMessageId,
    ciphertext: b64(nacl.randomBytes(64)),
    nonce: b64(nonce),
    senderKeyVersion: 1,
    recipientKeyVersion: 1,
  };
}
async function sendOk(s: TestSocket, to: { userId: string }) {
  s.send(sendFrame(to));
  const ack = await s.next((f) => f.type === 'ack' || f.type === 'error');
  assert.equal(ack.type, 'ack', JSON.stringify(ack));
  return ack as { messageId: string; conversationId: string };
}
/** The public derivation of a direct conversation id (docs/architecture.md): anyone can compute it. */
const dmId = (x: string, y: string) => {
  const [p, q] = [x, y].sort();
  return `dm_${createHash('sha256').update(`${p}\u0000${q}`).digest('hex').slice(0, 32)}`;
};

describe('a frame from an ended session', () => {
  for (const variant of ['a valid send', 'a send to oneself', 'a send to a deleted user'] as const) {
    test(`${variant}: refused as token_revoked, socket closed, nothing stored`, async () => {
      const alice = await person();
      const bob = await person();
      const s = await device(alice);
      const bobSocket = await device(bob);
      const conv = dmId(alice.userId, bob.userId);
      await rt.db.doc.send(
        new UpdateCommand({
          TableName: rt.db.table('sessions'),
          Key: { pk: `FAMILY#${sidOf(alice.accessToken)}`, sk: 'META' },
          UpdateExpression: 'SET revokedAt = :now',
          ExpressionAttributeValues: { ':now': rt.clock.now() },
        }),
      );
      const messagesBefore = await dump('messages');
      s.send(
        variant === 'a send to oneself' ? sendFrame(alice) : variant === 'a send to a deleted user' ? sendFrame({ userId: randomUUID() }) : sendFrame(bob),
      );
      const err = await s.next();
      assert.deepEqual({ type: err.type, code: err.code }, { type: 'error', code: 'token_revoked' });
      await s.closed;
      assert.equal(await dump('messages'), messagesBefore, 'nothing stored anywhere in the messages table');
      assert.deepEqual(await items('messages', `CONV#${conv}`), []);
      bobSocket.send({ action: 'ping' });
      assert.equal((await bobSocket.next()).type, 'pong', 'bob got no message frame');
    });
  }

  test('a malformed frame from an ended session is still answered as an ended session, and the socket closes', async () => {
    const alice = await person();
    const s = await device(alice);
    await rt.db.doc.send(
      new UpdateCommand({
        TableName: rt.db.table('sessions'),
        Key: { pk: `FAMILY#${sidOf(alice.accessToken)}`, sk: 'META' },
        UpdateExpression: 'SET revokedAt = :now',
        ExpressionAttributeValues: { ':now': rt.clock.now() },
      }),
    );
    s.send({ action: 'sendMessage', to: 'not-a-user', clientMessageId: 'x' });
    const err = await s.next();
    assert.deepEqual({ type: err.type, code: err.code }, { type: 'error', code: 'token_revoked' });
    await s.closed;
  });
});

describe('sending to oneself, to a deleted user', () => {
  test('oneself: cannot_message_self, nothing stored', async () => {
    const alice = await person();
    const s = await device(alice);
    const before = await dump('messages');
    s.send(sendFrame(alice));
    const err = await s.next();
    assert.deepEqual({ type: err.type, code: err.code }, { type: 'error', code: 'cannot_message_self' });
    assert.equal(await dump('messages'), before);
  });

  test('a deleted user: user_not_found, nothing stored, even when the conversation existed', async () => {
    const alice = await person();
    const bob = await person();
    const s = await device(alice);
    await sendOk(s, bob);
    assert.equal((await call(bob.accessToken, 'DELETE', '/api/users/me', { password: bob.password })).status, 204);
    const conv = dmId(alice.userId, bob.userId);
    const before = await items('messages', `CONV#${conv}`);
    s.send(sendFrame(bob));
    const err = await s.next();
    assert.deepEqual({ type: err.type, code: err.code }, { type: 'error', code: 'user_not_found' });
    assert.deepEqual(await items('messages', `CONV#${conv}`), before);
  });
});

describe('blocks and hidden messages', () => {
  test('what a blocked sender sends never reaches the blocker: not live, not history, not sync, not unread, not receipts', async () => {
    const alice = await person();
    const bob = await person();
    const a = await device(alice);
    const b = await device(bob);
    const visible = await sendOk(a, bob);
    await b.next((f) => f.type === 'message');
    assert.equal((await call(bob.accessToken, 'POST', `/api/users/${alice.userId}/block`)).status, 200);
    const hidden = await sendOk(a, bob);
    b.send({ action: 'ping' });
    assert.equal((await b.next()).type, 'pong', 'no live frame');
    const hist = await call(bob.accessToken, 'GET', `/api/conversations/${visible.conversationId}/messages`);
    assert.equal(hist.status, 200);
    assert.deepEqual(
      hist.json.messages.map((m: { messageId: string }) => m.messageId),
      [visible.messageId],
    );
    const sync = await call(bob.accessToken, 'GET', '/api/sync');
    assert.ok(!JSON.stringify(sync.json).includes(hidden.messageId), 'not in sync');
    const inbox = await call(bob.accessToken, 'GET', '/api/conversations');
    const entry = inbox.json.conversations.find((c: { conversationId: string }) => c.conversationId === visible.conversationId);
    assert.equal(entry.lastMessage.messageId, visible.messageId, 'the inbox did not move');
    assert.equal(entry.unreadCount, 1, 'only the visible message is unread');
    b.send({ action: 'markRead', conversationId: visible.conversationId, upToMessageId: hidden.messageId });
    const err = await b.next();
    assert.equal(err.code, 'message_not_found', 'a receipt for a hidden message proves nothing');
    const aliceHist = await call(alice.accessToken, 'GET', `/api/conversations/${visible.conversationId}/messages`);
    assert.equal(aliceHist.json.messages.length, 2, 'the sender sees an ordinary send');
  });
});

describe('history of a conversation whose id a stranger computed', () => {
  test('a non-member gets the 404 of no conversation, with or without a cursor, and cannot post, mark or type into it', async () => {
    const alice = await person();
    const bob = await person();
    const mallory = await person();
    const a = await device(alice);
    const ack = await sendOk(a, bob);
    await sendOk(a, bob);
    const conv = dmId(alice.userId, bob.userId);
    assert.equal(conv, ack.conversationId, 'the id is computable from the two user ids');
    const m = await device(mallory);
    const notFound = (r: HttpReply) => {
      assert.equal(r.status, 404, r.text);
      assert.equal(r.json.error.code, 'conversation_not_found');
    };
    notFound(await call(mallory.accessToken, 'GET', `/api/conversations/${conv}/messages`));
    notFound(await call(mallory.accessToken, 'GET', `/api/conversations/${conv}/messages?limit=1`));
    notFound(await call(mallory.accessToken, 'GET', `/api/conversations/${conv}/messages?before=ZZZZZZZZZZZZZZZZZZZZZZZZZZ`));
    notFound(await call(mallory.accessToken, 'GET', `/api/conversations/${conv}/messages?before=${ack.messageId}`));
    const before = await items('messages', `CONV#${conv}`);
    notFound(await call(mallory.accessToken, 'POST', `/api/conversations/${conv}/messages`, (({ action: _a, to: _t, ...rest }) => rest)(sendFrame(bob))));
    m.send({ action: 'markRead', conversationId: conv, upToMessageId: ack.messageId });
    assert.equal((await m.next()).code, 'conversation_not_found');
    m.send({ action: 'delivered', conversationId: conv, upToMessageId: ack.messageId });
    assert.equal((await m.next()).code, 'conversation_not_found');
    assert.deepEqual(await items('messages', `CONV#${conv}`), before, 'no position, no message');
  });

  test('a member paging with a cursor from another conversation reads only their own conversation', async () => {
    const alice = await person();
    const bob = await person();
    const carol = await person();
    const a = await device(alice);
    const mine = await sendOk(a, bob);
    const c = await device(carol);
    const foreign = await sendOk(c, alice); // alice is in it, but it is another conversation
    const r = await call(bob.accessToken, 'GET', `/api/conversations/${mine.conversationId}/messages?before=${'Z'.repeat(26)}`);
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.json.messages.map((x: { messageId: string }) => x.messageId),
      [mine.messageId],
    );
    assert.ok(!r.text.includes(foreign.messageId));
    const bad = await call(bob.accessToken, 'GET', `/api/conversations/${mine.conversationId}/messages?before=${'Z'.repeat(25)}%00`);
    assert.equal(bad.status, 400);
  });
});

// ---- accounts that end while a link or a socket is open ----------------------------------------------------

const setUser = (userId: string, changes: Record<string, unknown>) =>
  rt.db.doc.send(
    new UpdateCommand({
      TableName: rt.db.table('users'),
      Key: { pk: `USER#${userId}`, sk: 'PROFILE' },
      UpdateExpression: `SET ${Object.keys(changes)
        .map((k) => `#${k} = :${k}`)
        .join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(Object.keys(changes).map((k) => [`#${k}`, k])),
      ExpressionAttributeValues: Object.fromEntries(Object.entries(changes).map(([k, v]) => [`:${k}`, v])),
    }),
  );

describe('accounts that end between approval and claim, or under an open socket', () => {
  test('an approved link of an account deleted since cannot be claimed; one of a banned account neither', async () => {
    const deleted = await signUp(rt);
    const banned = await signUp(rt);
    const [n1, n2] = [await newDevice(), await newDevice()];
    assert.equal((await approve(deleted.accessToken, n1.linkId, { ...box(n1.publicKey), password: deleted.password })).status, 204);
    assert.equal((await approve(banned.accessToken, n2.linkId, { ...box(n2.publicKey), password: banned.password })).status, 204);
    assert.equal((await call(deleted.accessToken, 'DELETE', '/api/users/me', { password: deleted.password })).status, 204);
    await setUser(banned.userId, { status: 'banned' }); // a ban whose session revocation has not landed yet
    const sessions = await dump('sessions');
    refusedClaim(await claim(n1.linkId, n1.linkSecret), 'the approving account was deleted');
    refusedClaim(await claim(n2.linkId, n2.linkSecret), 'the approving account was banned');
    assert.equal(await dump('sessions'), sessions, 'no session or device was made by either claim');
    assert.ok(await linkItem(n2.linkId), 'a refused claim spends nothing');
  });

  test('a renamed revoked device: 404, the record is not revived', async () => {
    const a = await signUp(rt);
    await loginDevice(a, 'Old');
    const old = (await devices(a.accessToken)).find((d) => !d.current)!;
    assert.equal((await call(a.accessToken, 'DELETE', `/api/devices/${old.deviceId}`, { password: a.password })).status, 204);
    const r = await call(a.accessToken, 'PATCH', `/api/devices/${old.deviceId}`, { name: 'Revived' });
    assert.equal(r.status, 404, r.text);
    assert.equal(r.json.error.code, 'device_not_found');
    assert.equal((await devices(a.accessToken)).length, 1);
  });

  test('a socket of an account banned or suspended a moment ago: its next send is refused, closed, nothing stored', async () => {
    for (const status of ['banned', 'suspended'] as const) {
      const alice = await person();
      const bob = await person();
      const s = await device(alice);
      await setUser(alice.userId, status === 'banned' ? { status } : { status, suspendedUntil: rt.clock.now() + 3_600_000 });
      const before = await dump('messages');
      s.send(sendFrame(bob));
      const err = await s.next();
      assert.equal(err.code, status === 'banned' ? 'account_banned' : 'account_suspended', JSON.stringify(err));
      await s.closed;
      assert.equal(await dump('messages'), before, status);
    }
  });
});

describe('replayed proofs', () => {
  test('a reauth code spent on one approval cannot approve a second link or revoke a device', async () => {
    const p = await signUp(rt, { passwordless: true });
    assert.equal((await requestCode(rt, p.email, 'login')).status, 202);
    const second = await request(rt.httpUrl, 'POST', '/api/auth/login', { body: { email: p.email, code: await lastCode(rt, p.email, 'login') } });
    assert.equal(second.status, 200, second.text);
    const [n1, n2] = [await newDevice(), await newDevice()];
    assert.equal((await requestCode(rt, p.email, 'reauth')).status, 202);
    const code = await lastCode(rt, p.email, 'reauth');
    assert.equal((await approve(p.accessToken, n1.linkId, { ...box(n1.publicKey), code })).status, 204);
    const replayApprove = await approve(p.accessToken, n2.linkId, { ...box(n2.publicKey), code });
    assert.ok([401, 403].includes(replayApprove.status), replayApprove.text);
    assert.equal((await linkItem(n2.linkId))?.approval, undefined);
    const other = (await devices(p.accessToken)).find((d) => !d.current)!;
    const replayRevoke = await call(p.accessToken, 'DELETE', `/api/devices/${other.deviceId}`, { code });
    assert.ok([401, 403].includes(replayRevoke.status), replayRevoke.text);
    assert.equal((await me(rt, second.json.accessToken)).status, 200, 'the other device is still signed in');
  });
});

describe('account deletion and many device records', () => {
  test('every device record goes with the account, also past one Query page (1 MB)', async () => {
    const a = await signUp(rt);
    const table = rt.db.table('sessions');
    const expiresAt = Math.floor(rt.clock.now() / 1000) + 86_400;
    const name = 'x'.repeat(64);
    const extra = Array.from({ length: 3400 }, () => ({
      pk: `USER#${a.userId}`,
      sk: `DEVICE#${randomUUID()}`,
      deviceId: randomUUID(),
      owner: a.userId,
      name,
      createdAt: new Date(rt.clock.now()).toISOString(),
      familyId: randomUUID(),
      expiresAt,
    }));
    // logged-out sign-ins leave their records to TTL: an account that signed in thousands of times
    for (let i = 0; i < extra.length; i += 25) {
      await rt.db.doc.send(new BatchWriteCommand({ RequestItems: { [table]: extra.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
    }
    assert.equal((await call(a.accessToken, 'DELETE', '/api/users/me', { password: a.password })).status, 204);
    const left = await rt.db.doc.send(
      new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `USER#${a.userId}` }, Select: 'COUNT' }),
    );
    assert.equal(left.Count, 0, 'no device record (nor its name) outlives the account');
  });
});
