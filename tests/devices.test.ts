// Devices and device linking end to end (real handlers, local gateway, DynamoDB Local), tried the
// way an attacker would: every sign-in is a device; a revoked device's access token, refresh token
// and socket die at once; a link needs the approval of a signed-in device with a fresh proof, its
// secret, and its 5 minutes; it is claimed once (also under concurrent claims); every refusal of a
// claim is the same answer; the relayed box never reaches a log; linking changes no public key.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import nacl from 'tweetnacl';
import type { Runtime } from '../local/runtime.ts';
import { bearer, connectAs, lastCode, logIn, me, refreshWith, requestCode, signUp, type Account } from './support/identity.ts';
import { captureOutput } from './support/capture.ts';
import { request, startTestRuntime, type HttpReply } from './support/runtime.ts';

let rt: Runtime;
const MAX_DEVICES = 4;

before(async () => {
  rt = await startTestRuntime({ DEVICES_MAX: String(MAX_DEVICES) });
});
after(async () => rt?.stop());

const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
const call = (token: string | undefined, method: string, path: string, body?: unknown) =>
  request(rt.httpUrl, method, path, { ...(token ? { headers: bearer(token) } : {}), ...(body === undefined ? {} : { body }) });
const devices = async (token: string) => {
  const r = await call(token, 'GET', '/api/devices');
  assert.equal(r.status, 200, r.text);
  return r.json.devices as { deviceId: string; name: string; createdAt: string; lastSeenAt: string; current: boolean }[];
};
const currentDevice = async (token: string) => (await devices(token)).find((d) => d.current)!;

/** A second device of the account by password login. */
async function loginDevice(a: Account, deviceName?: string): Promise<{ accessToken: string; refreshToken: string }> {
  const r = await request(rt.httpUrl, 'POST', '/api/auth/login', { body: { email: a.email, password: a.password, ...(deviceName ? { deviceName } : {}) } });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

/** The new device's side: an ephemeral key pair and a link request. */
async function newDevice(deviceName = 'New phone') {
  const keys = nacl.box.keyPair();
  const r = await call(undefined, 'POST', '/api/devices/links', { publicKey: b64(keys.publicKey), deviceName });
  assert.equal(r.status, 201, r.text);
  return { keys, publicKey: b64(keys.publicKey), linkId: r.json.linkId as string, linkSecret: r.json.linkSecret as string, expiresIn: r.json.expiresIn };
}

/** The approver's box: `secret` boxed to the new device's key with an ephemeral sender key. */
function box(toPublicKey: string, secret: string) {
  const sender = nacl.box.keyPair();
  const nonce = nacl.randomBytes(24);
  const ciphertext = nacl.box(new TextEncoder().encode(secret), nonce, Buffer.from(toPublicKey, 'base64'), sender.secretKey);
  return { ciphertext: b64(ciphertext), nonce: b64(nonce), publicKey: b64(sender.publicKey) };
}

const approve = (token: string, linkId: string, body: Record<string, unknown>) => call(token, 'POST', `/api/devices/links/${linkId}/approve`, body);
const claim = (linkId: string, linkSecret: string) => call(undefined, 'POST', `/api/devices/links/${linkId}/claim`, { linkSecret });

/** Every refused claim: the same status and body, whatever the reason. */
function refusedClaim(r: HttpReply, why: string): void {
  assert.equal(r.status, 404, `${why}: ${r.text}`);
  assert.deepEqual(r.json, { error: { code: 'link_not_found', message: 'No such link request, or it expired or was used' } }, why);
}

async function linkItem(linkId: string) {
  return (await rt.db.doc.send(new GetCommand({ TableName: rt.db.table('ephemeral'), Key: { pk: `DEVLINK#${linkId}`, sk: 'LINK' }, ConsistentRead: true })))
    .Item;
}

describe('devices are first-class records', () => {
  test('register and login each create a device; the list shows names, times and which one is asking', async () => {
    const email = `dev.${randomBytes(4).toString('hex')}@example.test`;
    await requestCode(rt, email, 'register');
    const reg = await request(rt.httpUrl, 'POST', '/api/auth/register', {
      body: { email, displayName: 'Dev Owner', password: 'violet-otter-sings-42', code: await lastCode(rt, email, 'register'), deviceName: '  Ada’s laptop ' },
    });
    assert.equal(reg.status, 201, reg.text);
    assert.equal(reg.json.deviceId, undefined, 'the token answer keeps its documented shape');
    const phone = await logIn(rt, email, 'violet-otter-sings-42');
    assert.equal(phone.status, 200);
    const fromLaptop = await devices(reg.json.accessToken);
    assert.equal(fromLaptop.length, 2);
    assert.deepEqual(
      fromLaptop.map((d) => [d.name, d.current]),
      [
        ['Ada’s laptop', true],
        ['Unnamed device', false],
      ],
    );
    for (const d of fromLaptop) {
      assert.match(d.deviceId, /^[0-9a-f-]{36}$/);
      assert.equal(d.lastSeenAt, d.createdAt, 'never refreshed yet: seen at sign-in');
    }
    const fromPhone = await devices(phone.json.accessToken);
    assert.deepEqual(
      fromPhone.map((d) => d.current),
      [false, true],
    );
  });

  test('lastSeenAt moves on refresh (the rotation time: no extra write)', async () => {
    const a = await signUp(rt);
    const before = await currentDevice(a.accessToken);
    rt.clock.advance(90_000);
    const r = await refreshWith(rt, a.refreshToken);
    assert.equal(r.status, 200);
    const after = await currentDevice(r.json.accessToken);
    assert.equal(after.deviceId, before.deviceId, 'refresh keeps the device');
    const moved = Date.parse(after.lastSeenAt) - Date.parse(before.lastSeenAt);
    assert.ok(moved >= 90_000 && moved < 100_000, `moved ${moved} ms`);
  });

  test('rename: own devices only; names are checked', async () => {
    const a = await signUp(rt);
    const other = await signUp(rt);
    const mine = await currentDevice(a.accessToken);
    const renamed = await call(a.accessToken, 'PATCH', `/api/devices/${mine.deviceId}`, { name: 'Work laptop' });
    assert.equal(renamed.status, 200, renamed.text);
    assert.deepEqual(Object.keys(renamed.json).sort(), ['createdAt', 'current', 'deviceId', 'lastSeenAt', 'name']);
    assert.equal(renamed.json.name, 'Work laptop');
    assert.equal((await currentDevice(a.accessToken)).name, 'Work laptop');
    for (const name of ['', '   ', 'a'.repeat(65), 'bad\u202Ename', 'line\nbreak']) {
      const r = await call(a.accessToken, 'PATCH', `/api/devices/${mine.deviceId}`, { name });
      assert.equal(r.status, 400, `${JSON.stringify(name)}: ${r.text}`);
    }
    const theirs = await call(other.accessToken, 'PATCH', `/api/devices/${mine.deviceId}`, { name: 'Mine now' });
    assert.equal(theirs.status, 404, theirs.text);
    assert.equal(theirs.json.error.code, 'device_not_found');
    assert.equal((await currentDevice(a.accessToken)).name, 'Work laptop');
  });
});

describe('revoking a device', () => {
  test('needs a fresh proof: none, a wrong one, or another user’s device changes nothing', async () => {
    const a = await signUp(rt);
    const second = await loginDevice(a, 'Tablet');
    const tablet = (await devices(a.accessToken)).find((d) => !d.current)!;
    const del = (token: string, body?: unknown) => call(token, 'DELETE', `/api/devices/${tablet.deviceId}`, body);
    assert.equal((await del(a.accessToken)).status, 400, 'no proof');
    assert.equal((await del(a.accessToken, {})).status, 400, 'empty proof');
    const wrong = await del(a.accessToken, { password: 'not-the-password' });
    assert.equal(wrong.status, 403, wrong.text);
    assert.equal(wrong.json.error.code, 'invalid_password');
    const attacker = await signUp(rt);
    const foreign = await del(attacker.accessToken, { password: attacker.password });
    assert.equal(foreign.status, 404, foreign.text);
    assert.equal((await me(rt, second.accessToken)).status, 200, 'the tablet is still signed in');
    assert.equal((await devices(a.accessToken)).length, 2);
  });

  test('its access token, refresh token and socket die at once; the other devices stay', async () => {
    const a = await signUp(rt);
    const laptop = await loginDevice(a, 'Laptop');
    const [phoneSocket, laptopSocket] = [await connectAs(rt, a.accessToken), await connectAs(rt, laptop.accessToken)];
    const laptopId = (await currentDevice(laptop.accessToken)).deviceId;

    const r = await call(a.accessToken, 'DELETE', `/api/devices/${laptopId}`, { password: a.password });
    assert.equal(r.status, 204, r.text);

    const notice = await laptopSocket.next();
    assert.deepEqual({ type: notice.type, code: notice.code }, { type: 'error', code: 'device_revoked' }, 'the socket is told why before it closes');
    assert.deepEqual(notice.close, { code: 4003, reason: 'device_revoked' }, 'with its close code (contract/realtime/close-codes.ts)');
    const closed = await laptopSocket.closed;
    assert.equal(closed.code, 4003, `closed (${closed.code})`);
    const profile = await me(rt, laptop.accessToken);
    assert.equal(profile.status, 401);
    assert.equal(profile.json.error.code, 'token_revoked');
    assert.equal((await refreshWith(rt, laptop.refreshToken)).status, 401, 'refresh refused');
    const ticket = await call(laptop.accessToken, 'POST', '/api/ws/ticket');
    assert.equal(ticket.status, 401, 'no new socket either');

    assert.equal((await me(rt, a.accessToken)).status, 200, 'the revoking device stays');
    phoneSocket.send({ action: 'ping' });
    assert.equal((await phoneSocket.next((f) => f.type === 'pong')).type, 'pong', 'its socket stays open');
    assert.deepEqual(
      (await devices(a.accessToken)).map((d) => d.current),
      [true],
    );
    await phoneSocket.close();
  });

  test('a passwordless account revokes with a reauth code; revoking the calling device is a logout', async () => {
    const p = await signUp(rt, { passwordless: true });
    const self = await currentDevice(p.accessToken);
    assert.equal((await requestCode(rt, p.email, 'reauth')).status, 202);
    const r = await call(p.accessToken, 'DELETE', `/api/devices/${self.deviceId}`, { code: await lastCode(rt, p.email, 'reauth') });
    assert.equal(r.status, 204, r.text);
    assert.equal((await me(rt, p.accessToken)).status, 401);
    assert.equal((await refreshWith(rt, p.refreshToken)).status, 401);
  });

  test('devices whose session ended otherwise (logout) leave the list; account deletion removes every record', async () => {
    const a = await signUp(rt);
    const other = await loginDevice(a);
    assert.equal((await call(other.accessToken, 'POST', '/api/auth/logout')).status, 204);
    assert.equal((await devices(a.accessToken)).length, 1);
    const sessionsTable = rt.db.table('sessions');
    const records = async () =>
      (
        await rt.db.doc.send(
          new QueryCommand({ TableName: sessionsTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `USER#${a.userId}` } }),
        )
      ).Items ?? [];
    assert.equal((await records()).length, 2, 'the logged-out record waits for TTL, hidden');
    assert.equal((await call(a.accessToken, 'DELETE', '/api/users/me', { password: a.password })).status, 204);
    assert.deepEqual(await records(), [], 'deleted with the account');
  });
});

describe('linking a device', () => {
  test('the whole flow: request, check, approve, claim once; the others hear deviceLinked; the record is gone', async () => {
    const a = await signUp(rt);
    const laptop = await loginDevice(a, 'Laptop');
    const laptopSocket = await connectAs(rt, laptop.accessToken);
    const n = await newDevice('Ada’s phone');
    assert.equal(n.expiresIn, 300);
    assert.match(n.linkId, /^dl_[0-9a-f]{32}$/);
    const stored = await linkItem(n.linkId);
    assert.ok(stored, 'a link record');
    assert.ok(!JSON.stringify(stored).includes(n.linkSecret), 'the secret itself is never stored');

    const seen = await call(a.accessToken, 'GET', `/api/devices/links/${n.linkId}`);
    assert.equal(seen.status, 200, seen.text);
    assert.equal(seen.json.publicKey, n.publicKey, 'the approver compares this with the key it scanned');
    assert.equal(seen.json.deviceName, 'Ada’s phone');
    assert.equal(seen.json.approved, false);

    const sealed = box(n.publicKey, 'the account secret keys');
    const ok = await approve(a.accessToken, n.linkId, { ...sealed, password: a.password });
    assert.equal(ok.status, 204, ok.text);

    const claimed = await claim(n.linkId, n.linkSecret);
    assert.equal(claimed.status, 200, claimed.text);
    assert.equal(claimed.json.user.userId, a.userId);
    assert.deepEqual({ ciphertext: claimed.json.ciphertext, nonce: claimed.json.nonce, publicKey: claimed.json.publicKey }, sealed, 'the box as relayed');
    const opened = nacl.box.open(
      Buffer.from(claimed.json.ciphertext, 'base64'),
      Buffer.from(claimed.json.nonce, 'base64'),
      Buffer.from(claimed.json.publicKey, 'base64'),
      n.keys.secretKey,
    );
    assert.equal(new TextDecoder().decode(opened!), 'the account secret keys');
    assert.equal((await me(rt, claimed.json.accessToken)).status, 200, 'the new device is signed in');
    const listed = await devices(claimed.json.accessToken);
    assert.deepEqual(
      listed.map((d) => [d.name, d.current]),
      [
        ['Unnamed device', false],
        ['Laptop', false],
        ['Ada’s phone', true],
      ],
    );
    assert.equal(listed[2]!.deviceId, claimed.json.deviceId);

    const frame = await laptopSocket.next((f) => f.type === 'deviceLinked');
    assert.deepEqual(Object.keys(frame).sort(), ['deviceId', 'linkedAt', 'name', 'type']);
    assert.equal(frame.deviceId, claimed.json.deviceId);
    assert.equal(frame.name, 'Ada’s phone');

    refusedClaim(await claim(n.linkId, n.linkSecret), 'a replayed claim');
    assert.equal(await linkItem(n.linkId), undefined, 'the link record (and the box) is deleted at claim');
    await laptopSocket.close();
  });

  test('linking without approval, a stolen link id without the secret, a wrong secret: the same 404, nothing spent', async () => {
    const a = await signUp(rt);
    const n = await newDevice();
    refusedClaim(await claim(n.linkId, n.linkSecret), 'not approved yet');
    refusedClaim(await claim(n.linkId, randomBytes(32).toString('base64url')), 'not approved, wrong secret');
    refusedClaim(await claim(`dl_${randomBytes(16).toString('hex')}`, n.linkSecret), 'unknown link');
    assert.equal((await approve(a.accessToken, n.linkId, { ...box(n.publicKey, 'keys'), password: a.password })).status, 204);
    refusedClaim(await claim(n.linkId, randomBytes(32).toString('base64url')), 'stolen link id, guessed secret');
    const bad = await call(undefined, 'POST', `/api/devices/links/${n.linkId}/claim`, {});
    assert.equal(bad.status, 400, 'no secret at all is a validation error');
    assert.equal((await claim(n.linkId, n.linkSecret)).status, 200, 'the wrong guesses did not burn the link');
  });

  test('replayed and concurrent claims: exactly one wins', async () => {
    const a = await signUp(rt);
    const n = await newDevice();
    assert.equal((await approve(a.accessToken, n.linkId, { ...box(n.publicKey, 'keys'), password: a.password })).status, 204);
    const answers = await Promise.all(Array.from({ length: 8 }, () => claim(n.linkId, n.linkSecret)));
    const won = answers.filter((r) => r.status === 200);
    assert.equal(won.length, 1, answers.map((r) => r.status).join(','));
    for (const r of answers.filter((x) => x.status !== 200)) refusedClaim(r, 'a concurrent claim');
    assert.equal((await devices(a.accessToken)).length, 2, 'one new device, not eight');
  });

  test('approval needs a fresh proof; a second approval, from this account or another, fails; the other account cannot see it', async () => {
    const a = await signUp(rt);
    const b = await signUp(rt);
    const n = await newDevice();
    const sealed = box(n.publicKey, 'keys');
    assert.equal((await approve(a.accessToken, n.linkId, sealed)).status, 400, 'no proof');
    const wrong = await approve(a.accessToken, n.linkId, { ...sealed, password: 'nope-nope-nope' });
    assert.equal(wrong.status, 403);
    assert.equal((await linkItem(n.linkId))?.approval, undefined, 'nothing recorded');
    assert.equal((await approve(a.accessToken, n.linkId, { ...sealed, password: a.password })).status, 204);

    const hijack = await approve(b.accessToken, n.linkId, { ...box(n.publicKey, "b's keys"), password: b.password });
    assert.equal(hijack.status, 404, hijack.text);
    assert.equal(hijack.json.error.code, 'link_not_found');
    assert.equal((await call(b.accessToken, 'GET', `/api/devices/links/${n.linkId}`)).status, 404, 'B cannot see A’s approved link');
    assert.equal((await approve(a.accessToken, n.linkId, { ...sealed, password: a.password })).status, 404, 'approved once');
    const claimed = await claim(n.linkId, n.linkSecret);
    assert.equal(claimed.status, 200);
    assert.equal(claimed.json.user.userId, a.userId, 'the account that approved first');
    assert.equal(claimed.json.ciphertext, sealed.ciphertext);
  });

  test('after 5 minutes: no approval, no claim, no view', async () => {
    const a = await signUp(rt);
    const late = await newDevice();
    const approvedLate = await newDevice();
    assert.equal((await approve(a.accessToken, approvedLate.linkId, { ...box(approvedLate.publicKey, 'keys'), password: a.password })).status, 204);
    rt.clock.advance(300_000);
    const r = await approve(a.accessToken, late.linkId, { ...box(late.publicKey, 'keys'), password: a.password });
    assert.equal(r.status, 404, r.text);
    assert.equal((await call(a.accessToken, 'GET', `/api/devices/links/${late.linkId}`)).status, 404);
    refusedClaim(await claim(approvedLate.linkId, approvedLate.linkSecret), 'approved, then expired');
    assert.ok(await linkItem(approvedLate.linkId), 'still in the table (TTL is lazy): the read checked expiry itself');
  });

  test('a claim after the approving device was revoked fails; the device limit stops linking, not signing in', async () => {
    const a = await signUp(rt);
    const approver = await loginDevice(a, 'Approver');
    const n = await newDevice();
    assert.equal((await approve(approver.accessToken, n.linkId, { ...box(n.publicKey, 'keys'), password: a.password })).status, 204);
    const approverId = (await currentDevice(approver.accessToken)).deviceId;
    assert.equal((await call(a.accessToken, 'DELETE', `/api/devices/${approverId}`, { password: a.password })).status, 204);
    refusedClaim(await claim(n.linkId, n.linkSecret), 'the approver is gone');

    while ((await devices(a.accessToken)).length < MAX_DEVICES) await loginDevice(a);
    const over = await newDevice();
    const refused = await approve(a.accessToken, over.linkId, { ...box(over.publicKey, 'keys'), password: a.password });
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.json.error.code, 'device_limit');
    await loginDevice(a); // a password sign-in still works, so nobody is locked out by old devices
  });

  test('linking changes no key version and no safety number', async () => {
    const a = await signUp(rt);
    const b = await signUp(rt);
    const identity = nacl.sign.keyPair();
    const boxKeys = nacl.box.keyPair();
    const put = await call(a.accessToken, 'PUT', '/api/users/public-key', {
      identityKey: b64(identity.publicKey),
      publicKey: b64(boxKeys.publicKey),
      signature: b64(nacl.sign.detached(boxKeys.publicKey, identity.secretKey)),
    });
    assert.ok([200, 201].includes(put.status), put.text);
    const before = (await call(b.accessToken, 'GET', `/api/users/${a.userId}/public-key`)).json;
    const watcher = await connectAs(rt, b.accessToken);
    const n = await newDevice();
    assert.equal((await approve(a.accessToken, n.linkId, { ...box(n.publicKey, 'keys'), password: a.password })).status, 204);
    const claimed = await claim(n.linkId, n.linkSecret);
    assert.equal(claimed.status, 200);
    const after = (await call(b.accessToken, 'GET', `/api/users/${a.userId}/public-key`)).json;
    assert.deepEqual(after, before, 'same version, fingerprint and keys');
    const own = await call(claimed.json.accessToken, 'GET', '/api/users/public-key');
    assert.equal(own.json.version, before.version);
    watcher.send({ action: 'ping' });
    const next = await watcher.next((f) => f.type === 'pong' || f.type === 'keyChanged');
    assert.equal(next.type, 'pong', 'no keyChanged frame for the partner');
    await watcher.close();
  });

  test('the relayed box, the link secret and the codes never appear in a log line', async () => {
    let sealed = { ciphertext: '', nonce: '', publicKey: '' };
    let secret = '';
    const logs = await captureOutput(async () => {
      const a = await signUp(rt);
      const n = await newDevice();
      secret = n.linkSecret;
      sealed = box(n.publicKey, `secret keys ${randomBytes(8).toString('hex')}`);
      assert.equal((await approve(a.accessToken, n.linkId, { ...sealed, password: a.password })).status, 204);
      await claim(n.linkId, randomBytes(32).toString('base64url'));
      assert.equal((await claim(n.linkId, n.linkSecret)).status, 200);
    }, 'DEBUG');
    assert.ok(logs.includes('device_linked'), 'the link is logged as an event');
    for (const [what, value] of Object.entries({ ...sealed, secret })) assert.ok(!logs.includes(value), `${what} in the logs`);
    assert.ok(!logs.includes(sealed.ciphertext.slice(8, 40)), 'no part of the ciphertext in the logs');
  });
});

test('the privacy of the link table: after a claim, nothing of the box or the secret is left anywhere', async () => {
  const a = await signUp(rt);
  const n = await newDevice();
  const sealed = box(n.publicKey, 'keys');
  assert.equal((await approve(a.accessToken, n.linkId, { ...sealed, password: a.password })).status, 204);
  assert.equal((await claim(n.linkId, n.linkSecret)).status, 200);
  const dump = JSON.stringify((await rt.db.doc.send(new ScanCommand({ TableName: rt.db.table('ephemeral') }))).Items);
  assert.ok(!dump.includes(sealed.ciphertext) && !dump.includes(n.linkSecret) && !dump.includes(n.linkId));
});
