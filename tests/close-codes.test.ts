// Every reason the server ends a socket, end to end (real handlers, the local gateway, DynamoDB Local):
// the socket first gets an error frame whose code is the reason and whose `close` names the documented
// code (contract/realtime/close-codes.ts), then closes with exactly that code and reason. Sockets that
// should stay open stay open. A refused upgrade has no socket: its HTTP status is the table's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Runtime } from '../local/runtime.ts';
import { projectRoot } from '../local/lambda.ts';
import { closeCodes, type CloseReason } from '../contract/realtime/close-codes.ts';
import { bearer, connectAs, lastCode, requestCode, signUp, type Account } from './support/identity.ts';
import { openSocket, request, startTestRuntime, type TestSocket } from './support/runtime.ts';

let rt: Runtime;
let moderator: Account;
const sockets: TestSocket[] = [];

before(async () => {
  rt = await startTestRuntime();
  moderator = await signUp(rt, { displayName: 'Mo Ops' });
  const out = spawnSync(
    process.execPath,
    [join(projectRoot, 'bin', 'admin.ts'), 'grant', '--email', moderator.email, '--role', 'moderator', '--data-dir', rt.dataDir],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(out.status, 0, out.stderr);
});
after(async () => {
  await Promise.all(sockets.map((s) => s.close().catch(() => undefined)));
  await rt?.stop();
});

const call = (token: string | undefined, method: string, path: string, body?: unknown) =>
  request(rt.httpUrl, method, path, { ...(token ? { headers: bearer(token) } : {}), ...(body === undefined ? {} : { body }) });

async function socketOf(accessToken: string): Promise<TestSocket> {
  const s = await connectAs(rt, accessToken);
  sockets.push(s);
  return s;
}

/** A second session (device) of the account, by password login. */
async function secondSession(a: Account, deviceName = 'Laptop'): Promise<{ accessToken: string; refreshToken: string }> {
  const r = await call(undefined, 'POST', '/api/auth/login', { email: a.email, password: a.password, deviceName });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

const isError = (f: { type?: string }) => f.type === 'error';

/** The socket was told `reason` (with its close code) before it closed, and then closed with that code and reason. */
async function assertEndedFor(s: TestSocket, reason: CloseReason, what: string): Promise<{ message: string; details?: unknown }> {
  const { code } = closeCodes[reason];
  const closed = await s.closed;
  // the frame is already here when the close arrives: it came first
  const frame = await s.next(isError, 0).catch(() => assert.fail(`${what}: no error frame before the close (closed ${closed.code} ${closed.reason})`));
  assert.equal(frame.code, reason, `${what}: the error frame names the reason`);
  assert.deepEqual(frame.close, { code, reason }, `${what}: the error frame names the close code`);
  assert.equal(typeof frame.message, 'string');
  assert.deepEqual(closed, { code, reason }, `${what}: closed with the documented code and reason`);
  return frame;
}

/** The socket is still open and answers. */
async function assertOpen(s: TestSocket, what: string): Promise<void> {
  s.send({ action: 'ping' });
  assert.equal((await s.next((f) => f.type === 'pong')).type, 'pong', `${what}: still open`);
}

describe('every close the server makes carries its documented code', () => {
  test('logout: signed_out (4001) on this session’s sockets, the other session stays', async () => {
    const a = await signUp(rt);
    const other = await secondSession(a);
    const [mine, theirs] = [await socketOf(a.accessToken), await socketOf(other.accessToken)];
    assert.equal((await call(a.accessToken, 'POST', '/api/auth/logout')).status, 204);
    await assertEndedFor(mine, 'signed_out', 'logout');
    await assertOpen(theirs, 'the other session');
  });

  test('logout-all: signed_out (4001) on every socket of the account', async () => {
    const a = await signUp(rt);
    const other = await secondSession(a);
    const [one, two] = [await socketOf(a.accessToken), await socketOf(other.accessToken)];
    assert.equal((await call(a.accessToken, 'POST', '/api/auth/logout-all')).status, 204);
    await assertEndedFor(one, 'signed_out', 'logout-all, caller');
    await assertEndedFor(two, 'signed_out', 'logout-all, other session');
  });

  test('password change: token_revoked (4002) on the other sessions’ sockets, the caller’s stays', async () => {
    const a = await signUp(rt);
    const other = await secondSession(a);
    const [keep, drop] = [await socketOf(a.accessToken), await socketOf(other.accessToken)];
    const changed = await call(a.accessToken, 'POST', '/api/auth/password', { currentPassword: a.password, newPassword: 'copper-finch-dives-31' });
    assert.equal(changed.status, 200, changed.text);
    await assertEndedFor(drop, 'token_revoked', 'password change');
    await assertOpen(keep, 'the caller’s socket');
  });

  test('password reset: token_revoked (4002) on every socket', async () => {
    const a = await signUp(rt);
    const s = await socketOf(a.accessToken);
    assert.equal((await requestCode(rt, a.email, 'reset')).status, 202);
    const reset = await call(undefined, 'POST', '/api/auth/password/reset', {
      email: a.email,
      code: await lastCode(rt, a.email, 'reset'),
      newPassword: 'marble-stork-wades-58',
    });
    assert.equal(reset.status, 204, reset.text);
    await assertEndedFor(s, 'token_revoked', 'password reset');
  });

  test('a reused refresh token: token_revoked (4002) on that session’s sockets', async () => {
    const a = await signUp(rt);
    const s = await socketOf(a.accessToken);
    assert.equal((await call(undefined, 'POST', '/api/auth/refresh', { refreshToken: a.refreshToken })).status, 200);
    const replay = await call(undefined, 'POST', '/api/auth/refresh', { refreshToken: a.refreshToken });
    assert.equal(replay.json.error.code, 'refresh_token_reused');
    await assertEndedFor(s, 'token_revoked', 'refresh reuse');
  });

  test('device revocation: device_revoked (4003) on the revoked device’s sockets, the revoking device stays', async () => {
    const a = await signUp(rt);
    const laptop = await secondSession(a, 'Old laptop');
    const [phone, laptopSocket] = [await socketOf(a.accessToken), await socketOf(laptop.accessToken)];
    const list = await call(laptop.accessToken, 'GET', '/api/devices');
    const laptopId = list.json.devices.find((d: { current: boolean }) => d.current).deviceId;
    const revoked = await call(a.accessToken, 'DELETE', `/api/devices/${laptopId}`, { password: a.password });
    assert.equal(revoked.status, 204, revoked.text);
    await assertEndedFor(laptopSocket, 'device_revoked', 'device revocation');
    await assertOpen(phone, 'the revoking device');
  });

  test('suspension: account_suspended (4004) with until; ban: account_banned (4006)', async () => {
    const [t, u] = [await signUp(rt), await signUp(rt)];
    const [ts, us] = [await socketOf(t.accessToken), await socketOf(u.accessToken)];
    const suspended = await call(moderator.accessToken, 'POST', `/api/admin/users/${t.userId}/suspend`, { durationHours: 2, note: 'cool off' });
    assert.equal(suspended.status, 200, suspended.text);
    const frame = await assertEndedFor(ts, 'account_suspended', 'suspension');
    assert.deepEqual(frame.details, { until: suspended.json.suspendedUntil });
    const banned = await call(moderator.accessToken, 'POST', `/api/admin/users/${u.userId}/ban`, { note: 'spam wave' });
    assert.equal(banned.status, 200, banned.text);
    await assertEndedFor(us, 'account_banned', 'ban');
  });

  test('account deletion: account_deleted (4005) on every socket', async () => {
    const a = await signUp(rt);
    const other = await secondSession(a);
    const [one, two] = [await socketOf(a.accessToken), await socketOf(other.accessToken)];
    assert.equal((await call(a.accessToken, 'DELETE', '/api/users/me', { password: a.password })).status, 204);
    await assertEndedFor(one, 'account_deleted', 'deletion, caller');
    await assertEndedFor(two, 'account_deleted', 'deletion, other session');
  });

  test('a frame on a session that ended behind the socket’s back: token_revoked (4002)', async () => {
    const a = await signUp(rt);
    const s = await socketOf(a.accessToken);
    // revoke the family directly, as a crash between logout's two steps would leave it
    const { sessions } = await import('../functions/wiring/auth.ts');
    const sid = JSON.parse(Buffer.from(a.accessToken.split('.')[1]!, 'base64url').toString()).sid;
    await sessions().revoke(sid, 'test');
    s.send({ action: 'typing', to: moderator.userId });
    await assertEndedFor(s, 'token_revoked', 'frame check');
  });

  test('a bare @connections DELETE (no error frame named a close) still closes with 1000', async () => {
    const a = await signUp(rt);
    const known = new Set(rt.ws.connections.keys());
    const s = await socketOf(a.accessToken);
    const id = [...rt.ws.connections.keys()].find((k) => !known.has(k))!;
    const base = rt.wsUrl.replace(/^ws/, 'http');
    // an error frame without `close`, and a frame naming a code outside 4000-4999, change nothing
    for (const frame of [
      { type: 'error', code: 'x', message: 'x' },
      { type: 'error', code: 'x', message: 'x', close: { code: 1011, reason: 'x' } },
    ]) {
      assert.equal((await fetch(`${base}/@connections/${encodeURIComponent(id)}`, { method: 'POST', body: JSON.stringify(frame) })).status, 200);
    }
    assert.equal((await fetch(`${base}/@connections/${encodeURIComponent(id)}`, { method: 'DELETE' })).status, 204);
    assert.deepEqual(await s.closed, { code: 1000, reason: 'Going away' });
  });
});

describe('a refused upgrade answers with the table’s HTTP status', () => {
  test('ticket_invalid: an unknown, a used and an expired ticket are refused with 401', async () => {
    const a = await signUp(rt);
    const status = closeCodes.ticket_invalid.upgradeStatus;
    const refused = (url: string) =>
      openSocket(url).then(
        (s) => (sockets.push(s), assert.fail('the upgrade was accepted')),
        (e: { status?: number }) => e.status,
      );
    assert.equal(await refused(`${rt.wsUrl}/?ticket=not-a-ticket`), status, 'unknown');
    const ticket = (await call(a.accessToken, 'POST', '/api/ws/ticket')).json.ticket;
    sockets.push(await openSocket(`${rt.wsUrl}/?ticket=${ticket}`));
    assert.equal(await refused(`${rt.wsUrl}/?ticket=${ticket}`), status, 'used');
    const stale = (await call(a.accessToken, 'POST', '/api/ws/ticket')).json.ticket;
    rt.clock.advance(31_000);
    assert.equal(await refused(`${rt.wsUrl}/?ticket=${stale}`), status, 'expired');
    // a ticket whose session has ended is refused alike
    const late = (await call(a.accessToken, 'POST', '/api/ws/ticket')).json.ticket;
    assert.equal((await call(a.accessToken, 'POST', '/api/auth/logout')).status, 204);
    assert.equal(await refused(`${rt.wsUrl}/?ticket=${late}`), status, 'session ended');
  });
});
