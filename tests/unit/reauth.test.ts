// Re-authentication for sensitive actions, over in-memory ports: deleting the account and turning
// discovery on take a fresh proof (the password, or a `reauth` code for a passwordless account),
// checked under the login limits, so a stolen access token alone can do neither.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authenticate } from '#core/authn.ts';
import { deleteAccount, login, requestOtp, updateProfile, type Identifier } from '#core/identity.ts';
import { addUser, authDeps, deletionDeps, deliveryDeps, fakeWorld, identityDeps, loginDeps, rejectsWith, signIn, type World } from '../support/fakes.ts';

const IP = '198.51.100.7';
const PASSWORD = 'violet-otter-sings-42';

async function account(w: World, opts: { passwordless?: boolean; discoverable?: boolean } = {}) {
  const user = await addUser(w, {
    email: `user${w.users.records.size + 1}@example.test`,
    ...(opts.passwordless ? {} : { password: PASSWORD }),
    ...(opts.discoverable ? { discoverable: true } : {}),
  });
  const session = await signIn(w, user.userId);
  const id: Identifier = { channel: 'email', destination: user.email! };
  return { user, id, auth: () => authenticate(authDeps(w), `Bearer ${session.accessToken}`) };
}

const exists = async (w: World, userId: string) => (await w.users.get(userId)) !== undefined;

describe('deleting the account takes a fresh proof', () => {
  test('without one: 400 naming the field, nothing deleted, nothing counted', async () => {
    const w = fakeWorld();
    const a = await account(w);
    const refused = await rejectsWith(deleteAccount(deletionDeps(w), await a.auth(), {}, IP), 400, 'validation_failed');
    assert.deepEqual(refused.details, [{ path: 'body.password', message: 'Send the account password', code: 'required' }]);
    assert.ok(await exists(w, a.user.userId));
    assert.equal(w.limits.accepted.size, 0, 'a request without a proof is not a login attempt');
  });

  test('a wrong password is 403 and counts like a login: the sixth attempt for the account is 429, even with the right password', async () => {
    const w = fakeWorld();
    const a = await account(w);
    for (let i = 0; i < 5; i++) {
      // a new address each time: the per-account limit is the one that bites
      await rejectsWith(deleteAccount(deletionDeps(w), await a.auth(), { password: `wrong-${i}-password` }, `203.0.113.${i}`), 403, 'invalid_password');
    }
    const limited = await rejectsWith(deleteAccount(deletionDeps(w), await a.auth(), { password: PASSWORD }, '203.0.113.99'), 429, 'rate_limited');
    assert.deepEqual(limited.details, { limited: 'login attempts for this account', retryAfterSeconds: 330 });
    assert.ok(await exists(w, a.user.userId));
    // the same counter as login: signing in is refused too until the window moves on
    await rejectsWith(login(loginDeps(w), { identifier: a.id, password: PASSWORD }, '203.0.113.100'), 429, 'rate_limited');
    w.clock.advance(330_000);
    await deleteAccount(deletionDeps(w), await a.auth(), { password: PASSWORD }, IP);
    assert.equal(await exists(w, a.user.userId), false);
  });

  test('and per address: five tries from one address on different accounts, the sixth is 429', async () => {
    const w = fakeWorld();
    for (let i = 0; i < 5; i++) {
      const a = await account(w);
      await rejectsWith(deleteAccount(deletionDeps(w), await a.auth(), { password: 'not-the-password' }, IP), 403, 'invalid_password');
    }
    const last = await account(w);
    const limited = await rejectsWith(deleteAccount(deletionDeps(w), await last.auth(), { password: PASSWORD }, IP), 429, 'rate_limited');
    assert.equal((limited.details as { limited: string }).limited, 'login attempts from this address');
    assert.ok(await exists(w, last.user.userId));
  });

  test('the right password deletes the account, its keys and sessions', async () => {
    const w = fakeWorld();
    const a = await account(w);
    const auth = await a.auth();
    await deleteAccount(deletionDeps(w), auth, { password: PASSWORD }, IP);
    assert.equal(await exists(w, a.user.userId), false);
    await rejectsWith(a.auth(), 401, 'token_revoked');
  });

  test('a passwordless account confirms with a reauth code, once; a password account gets no such code and cannot use one', async () => {
    const w = fakeWorld();
    const p = await account(w, { passwordless: true });
    const withPassword = await account(w);
    await requestOtp(deliveryDeps(w), 'reauth', withPassword.id, IP);
    await requestOtp(deliveryDeps(w), 'reauth', p.id, IP);
    assert.deepEqual(
      w.notifier.sent.map((m) => [m.purpose, m.destination]),
      [['reauth', p.id.destination]],
      'reauth codes go to passwordless accounts only',
    );
    const code = w.notifier.codeFor(p.id.destination);

    await rejectsWith(deleteAccount(deletionDeps(w), await withPassword.auth(), { code: '123456' }, IP), 400, 'password_required');
    await rejectsWith(deleteAccount(deletionDeps(w), await p.auth(), { password: PASSWORD }, IP), 400, 'code_required');
    await rejectsWith(deleteAccount(deletionDeps(w), await p.auth(), { code: code === '000000' ? '000001' : '000000' }, IP), 401, 'invalid_code');
    const refused = await rejectsWith(deleteAccount(deletionDeps(w), await p.auth(), {}, IP), 400, 'validation_failed');
    assert.deepEqual(refused.details, [{ path: 'body.code', message: 'Request a code with purpose "reauth" first', code: 'required' }]);
    assert.ok(await exists(w, p.user.userId));

    // a login code is not a reauth code
    await requestOtp(deliveryDeps(w), 'login', p.id, IP);
    await rejectsWith(deleteAccount(deletionDeps(w), await p.auth(), { code: w.notifier.codeFor(p.id.destination) }, IP), 401, 'invalid_code');

    await deleteAccount(deletionDeps(w), await p.auth(), { code }, IP);
    assert.equal(await exists(w, p.user.userId), false);
  });
});

describe('turning discovery on takes a fresh proof', () => {
  test('without one it is refused and stays off; with the password it is on; turning it off needs none', async () => {
    const w = fakeWorld();
    const a = await account(w);
    await rejectsWith(updateProfile(identityDeps(w), await a.auth(), { discoverable: true }, IP), 400, 'validation_failed');
    await rejectsWith(updateProfile(identityDeps(w), await a.auth(), { discoverable: true, password: 'not-the-password' }, IP), 403, 'invalid_password');
    assert.equal((await w.users.get(a.user.userId))!.discoverable, undefined, 'still off');

    const on = await updateProfile(identityDeps(w), await a.auth(), { discoverable: true, password: PASSWORD }, IP);
    assert.equal(on.discoverable, true);
    // already on: saying so again changes nothing and needs nothing
    assert.equal((await updateProfile(identityDeps(w), await a.auth(), { discoverable: true }, IP)).discoverable, true);

    const counted = [...w.limits.accepted.values()].reduce((n, hits) => n + hits.length, 0);
    const off = await updateProfile(identityDeps(w), await a.auth(), { discoverable: false }, IP);
    assert.equal(off.discoverable, false);
    const renamed = await updateProfile(identityDeps(w), await a.auth(), { displayName: 'Ada Renamed' }, IP);
    assert.equal(renamed.displayName, 'Ada Renamed');
    assert.equal(
      [...w.limits.accepted.values()].reduce((n, hits) => n + hits.length, 0),
      counted,
      'no proof asked, none counted',
    );
  });

  test('a passwordless account turns it on with a reauth code', async () => {
    const w = fakeWorld();
    const p = await account(w, { passwordless: true });
    await requestOtp(deliveryDeps(w), 'reauth', p.id, IP);
    const on = await updateProfile(identityDeps(w), await p.auth(), { discoverable: true, code: w.notifier.codeFor(p.id.destination) }, IP);
    assert.equal(on.discoverable, true);
  });

  test('a proof sent along is always checked; a reserved name is refused before the proof is spent', async () => {
    const w = fakeWorld();
    const a = await account(w);
    await rejectsWith(updateProfile(identityDeps(w), await a.auth(), { displayName: 'New Name', password: 'not-the-password' }, IP), 403, 'invalid_password');
    const p = await account(w, { passwordless: true });
    await requestOtp(deliveryDeps(w), 'reauth', p.id, IP);
    const code = w.notifier.codeFor(p.id.destination);
    await rejectsWith(updateProfile(identityDeps(w), await p.auth(), { displayName: 'Admin', discoverable: true, code }, IP), 400, 'validation_failed');
    assert.equal((await updateProfile(identityDeps(w), await p.auth(), { discoverable: true, code }, IP)).discoverable, true, 'the code was not spent');
  });
});
