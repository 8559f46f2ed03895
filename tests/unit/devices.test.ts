// Devices and device linking over in-memory ports (core/devices.ts): what a device list shows, what a
// revocation ends, and the link's rules: its secret, its five minutes, one approval with a fresh proof,
// the device limit, one claim, one answer for every refused claim.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { authenticate } from '#core/authn.ts';
import { approveLink, claimLink, listDevices, renameDevice, requestLink, revokeDevice, viewLink } from '#core/devices.ts';
import { login, register } from '#core/identity.ts';
import {
  addUser,
  approvalDeps,
  authDeps,
  claimDeps,
  deviceDeps,
  fakeWorld,
  identityDeps,
  linkRequestDeps,
  loginDeps,
  rejectsWith,
  revocationDeps,
  type World,
} from '../support/fakes.ts';

const IP = '198.51.100.9';
const PASSWORD = 'violet-otter-sings-42';
const KEY = Buffer.alloc(32, 5).toString('base64');
const BOX = {
  ciphertext: Buffer.alloc(64, 1).toString('base64'),
  nonce: Buffer.alloc(24, 2).toString('base64'),
  publicKey: Buffer.alloc(32, 3).toString('base64'),
};

/** A user signed in by password login on one device (a device record and a family, as the route makes them). */
async function account(w: World, deviceName = 'Laptop') {
  const user = await addUser(w, { email: `d${w.users.records.size + 1}@example.test`, password: PASSWORD });
  const result = await login(loginDeps(w), { identifier: { channel: 'email', destination: user.email! }, password: PASSWORD, deviceName }, IP);
  assert.equal(result.kind, 'tokens');
  const tokens = result.kind === 'tokens' ? result.tokens : undefined!;
  return { user, tokens, auth: () => authenticate(authDeps(w), `Bearer ${tokens.accessToken}`) };
}

async function approvedLink(w: World, a: Awaited<ReturnType<typeof account>>) {
  const link = await requestLink(linkRequestDeps(w), { publicKey: KEY, deviceName: 'Phone' }, IP);
  await approveLink(approvalDeps(w), await a.auth(), link.linkId, { ...BOX, password: PASSWORD }, IP);
  return link;
}

describe('devices', () => {
  test('every sign-in is a device holding its session; register too', async () => {
    const w = fakeWorld({ env: { OTP_REQUIRED_FOR: 'none' } });
    const reg = await register(
      identityDeps(w),
      { identifier: { channel: 'email', destination: 'new@example.test' }, displayName: 'New', password: PASSWORD },
      IP,
    );
    const record = w.devices.records.get(reg.deviceId)!;
    assert.equal(record.name, 'Unnamed device');
    assert.equal(w.sessions.families.get(record.familyId)?.deviceId, reg.deviceId, 'the family names its device');
    assert.equal(record.expiresAt, w.sessions.families.get(record.familyId)?.expiresAt, 'and they end together');
  });

  test('the list shows live sessions only, oldest first, lastSeenAt from the last rotation, `current` for the caller', async () => {
    const w = fakeWorld();
    const a = await account(w, 'Laptop');
    w.clock.advance(1000);
    const phone = await login(loginDeps(w), { identifier: { channel: 'email', destination: a.user.email! }, password: PASSWORD, deviceName: 'Phone' }, IP);
    assert.equal(phone.kind, 'tokens');
    const phoneFamily = [...w.sessions.families.values()].find((f) => f.deviceId === (phone.kind === 'tokens' ? phone.tokens.deviceId : ''))!;
    phoneFamily.lastUsedAt = w.clock.now() + 60_000;
    const list = await listDevices(deviceDeps(w), await a.auth());
    assert.deepEqual(
      list.map((d) => [d.name, d.current]),
      [
        ['Laptop', true],
        ['Phone', false],
      ],
    );
    assert.equal(list[1]!.lastSeenAt, new Date(phoneFamily.lastUsedAt).toISOString());
    await w.sessions.revoke(phoneFamily.familyId, 'logout');
    assert.deepEqual(
      (await listDevices(deviceDeps(w), await a.auth())).map((d) => d.name),
      ['Laptop'],
    );
  });

  test('rename: the caller’s own live devices only', async () => {
    const w = fakeWorld();
    const a = await account(w);
    const b = await account(w);
    assert.equal((await renameDevice(deviceDeps(w), await a.auth(), a.tokens.deviceId, 'Work')).name, 'Work');
    await rejectsWith(renameDevice(deviceDeps(w), await b.auth(), a.tokens.deviceId, 'Mine'), 404, 'device_not_found');
  });

  test('revoke: a fresh proof first; then the family, the record and the sockets (told why) end', async () => {
    const w = fakeWorld();
    const a = await account(w);
    const other = await login(loginDeps(w), { identifier: { channel: 'email', destination: a.user.email! }, password: PASSWORD }, IP);
    const otherTokens = other.kind === 'tokens' ? other.tokens : undefined!;
    const otherFamily = w.devices.records.get(otherTokens.deviceId)!.familyId;
    await w.connections.save({ connectionId: 'c1', connectedAt: new Date().toISOString(), userId: a.user.userId, sessionId: otherFamily });
    await w.connections.save({ connectionId: 'c2', connectedAt: new Date().toISOString(), userId: a.user.userId, sessionId: 'someone-else' });

    await rejectsWith(revokeDevice(revocationDeps(w), await a.auth(), otherTokens.deviceId, {}, IP), 400, 'validation_failed');
    await rejectsWith(revokeDevice(revocationDeps(w), await a.auth(), otherTokens.deviceId, { password: 'wrong' }, IP), 403, 'invalid_password');
    assert.equal(w.sessions.families.get(otherFamily)?.revokedAt, undefined, 'nothing ended');

    await revokeDevice(revocationDeps(w), await a.auth(), otherTokens.deviceId, { password: PASSWORD }, IP);
    assert.equal(w.sessions.families.get(otherFamily)?.revokeReason, 'device_revoked');
    assert.equal(w.devices.records.has(otherTokens.deviceId), false);
    assert.deepEqual(
      w.connections.framesOn('c1').map((f) => (f as { code: string }).code),
      ['device_revoked'],
    );
    assert.equal(w.connections.isOpen('c1'), false);
    assert.equal(w.connections.isOpen('c2'), true, 'other sessions keep their sockets');
    await rejectsWith(authenticate(authDeps(w), `Bearer ${otherTokens.accessToken}`), 401, 'token_revoked');
  });
});

describe('linking', () => {
  test('the request stores a digest of the secret, never the secret; ids and secrets are fresh', async () => {
    const w = fakeWorld();
    const one = await requestLink(linkRequestDeps(w), { publicKey: KEY, deviceName: 'Phone' }, IP);
    const two = await requestLink(linkRequestDeps(w), { publicKey: KEY, deviceName: 'Phone' }, IP);
    assert.notEqual(one.linkId, two.linkId);
    assert.notEqual(one.linkSecret, two.linkSecret);
    assert.equal(one.expiresIn, 300);
    const stored = w.links.links.get(one.linkId)!;
    assert.equal(stored.secretDigest, createHash('sha256').update(one.linkSecret).digest('base64url'));
    assert.ok(!JSON.stringify(stored).includes(one.linkSecret));
  });

  test('requests are limited per address (linkIp)', async () => {
    const w = fakeWorld({ env: { RATE_LIMITS: JSON.stringify({ linkIp: { limit: 2, windowSeconds: 600 } }) } });
    await requestLink(linkRequestDeps(w), { publicKey: KEY, deviceName: 'a' }, IP);
    await requestLink(linkRequestDeps(w), { publicKey: KEY, deviceName: 'b' }, IP);
    await rejectsWith(requestLink(linkRequestDeps(w), { publicKey: KEY, deviceName: 'c' }, IP), 429, 'rate_limited');
    await requestLink(linkRequestDeps(w), { publicKey: KEY, deviceName: 'd' }, '203.0.113.1');
  });

  test('claim: the same 404 for unknown, unapproved, wrong-secret, replayed and expired links', async () => {
    const w = fakeWorld();
    const a = await account(w);
    const pending = await requestLink(linkRequestDeps(w), { publicKey: KEY, deviceName: 'Phone' }, IP);
    const refused = async (id: string, secret: string) => (await rejectsWith(claimLink(claimDeps(w), id, secret, IP), 404, 'link_not_found')).message;
    const messages = [await refused(pending.linkId, pending.linkSecret), await refused('dl_00000000000000000000000000000000', pending.linkSecret)];
    const approved = await approvedLink(w, a);
    messages.push(await refused(approved.linkId, pending.linkSecret));
    const claimed = await claimLink(claimDeps(w), approved.linkId, approved.linkSecret, IP);
    assert.deepEqual({ ciphertext: claimed.ciphertext, nonce: claimed.nonce, publicKey: claimed.publicKey }, BOX);
    assert.equal(claimed.user.userId, a.user.userId);
    messages.push(await refused(approved.linkId, approved.linkSecret));
    const late = await approvedLink(w, a);
    w.clock.advance(300_000);
    messages.push(await refused(late.linkId, late.linkSecret));
    assert.equal(new Set(messages).size, 1, 'one message for every reason');
  });

  test('a claim makes a device of the approver’s account, tells its sockets, and the new session works', async () => {
    const w = fakeWorld();
    const a = await account(w);
    await w.connections.save({ connectionId: 'laptop', connectedAt: new Date().toISOString(), userId: a.user.userId, sessionId: 'x' });
    const link = await approvedLink(w, a);
    const claimed = await claimLink(claimDeps(w), link.linkId, link.linkSecret, IP);
    assert.equal(w.devices.records.get(claimed.deviceId)?.name, 'Phone');
    const [frame] = w.connections.framesOn('laptop') as { type: string; deviceId: string }[];
    assert.equal(frame?.type, 'deviceLinked');
    assert.equal(frame?.deviceId, claimed.deviceId);
    assert.equal((await authenticate(authDeps(w), `Bearer ${claimed.accessToken}`)).userId, a.user.userId);
    assert.equal(w.links.links.size, 0, 'the link is gone');
  });

  test('approval: a fresh proof, once, within five minutes, and under the device limit', async () => {
    const w = fakeWorld({
      env: { RATE_LIMITS: JSON.stringify({ loginIp: { limit: 100, windowSeconds: 60 }, loginAccount: { limit: 100, windowSeconds: 60 } }) },
    });
    const a = await account(w);
    const b = await account(w);
    const link = await requestLink(linkRequestDeps(w), { publicKey: KEY, deviceName: 'Phone' }, IP);
    await rejectsWith(approveLink(approvalDeps(w), await a.auth(), link.linkId, { ...BOX, password: 'wrong' }, IP), 403, 'invalid_password');
    await approveLink(approvalDeps(w), await a.auth(), link.linkId, { ...BOX, password: PASSWORD }, IP);
    await rejectsWith(approveLink(approvalDeps(w), await b.auth(), link.linkId, { ...BOX, password: PASSWORD }, IP), 404, 'link_not_found');
    await rejectsWith(viewLink({ clock: w.clock, links: w.links }, await b.auth(), link.linkId), 404, 'link_not_found');
    assert.equal((await viewLink({ clock: w.clock, links: w.links }, await a.auth(), link.linkId)).approved, true);

    const late = await requestLink(linkRequestDeps(w), { publicKey: KEY, deviceName: 'Phone' }, IP);
    w.clock.advance(300_000);
    await rejectsWith(approveLink(approvalDeps(w), await a.auth(), late.linkId, { ...BOX, password: PASSWORD }, IP), 404, 'link_not_found');

    const full = await requestLink(linkRequestDeps(w), { publicKey: KEY, deviceName: 'Phone' }, IP);
    await rejectsWith(approveLink(approvalDeps(w, 1), await a.auth(), full.linkId, { ...BOX, password: PASSWORD }, IP), 409, 'device_limit');
  });

  test('a claim after the approving session ended, or the account was banned, is refused', async () => {
    const w = fakeWorld();
    const a = await account(w);
    const link = await approvedLink(w, a);
    await w.sessions.revoke((await a.auth()).sessionId, 'logout');
    await rejectsWith(claimLink(claimDeps(w), link.linkId, link.linkSecret, IP), 404, 'link_not_found');
    assert.equal(w.links.links.size, 1, 'refused before the link was spent');
    const b = await account(w);
    const other = await approvedLink(w, b);
    await w.users.update(b.user.userId, { status: 'banned' });
    await rejectsWith(claimLink(claimDeps(w), other.linkId, other.linkSecret, IP), 404, 'link_not_found');
  });
});
