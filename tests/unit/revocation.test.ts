// No window after a password change, a reset or logout-all, over in-memory ports: a sign-in that
// read the user before the change dies however late its session family is written, also in the
// very millisecond of the change (the manual clock does not move), while the caller's own session
// survives a password change. Sign-ins race the change deterministically: the family write is held
// until the change is done.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authenticate, liveSession } from '#core/authn.ts';
import { changePassword, login, logoutAll, refresh, requestOtp, resetPassword, type TokenResponse } from '#core/identity.ts';
import type { FamilyRecord, SessionsPort } from '#core/ports.ts';
import { addUser, authDeps, deliveryDeps, fakeWorld, loginDeps, rejectsWith, socketDeps, type World } from '../support/fakes.ts';

const IP = '198.51.100.7';
const PASSWORD = 'violet-otter-sings-42';
const NEW_PASSWORD = 'amber-heron-glides-7';
const ada = { channel: 'email' as const, destination: 'ada@example.test' };

async function signInWith(w: World, password: string, sessions: SessionsPort = w.sessions): Promise<TokenResponse> {
  const result = await login({ ...loginDeps(w), sessions }, { identifier: ada, password }, IP);
  assert.equal(result.kind, 'tokens');
  return (result as Extract<typeof result, { kind: 'tokens' }>).tokens;
}

/**
 * A sign-in whose family write waits until `release()`: by then it has read the user and checked
 * the password, which is the moment a concurrent change must not miss.
 */
function heldSignIn(w: World, password: string) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let reached!: () => void;
  const atWrite = new Promise<void>((resolve) => (reached = resolve));
  const sessions: SessionsPort = {
    async create(family) {
      reached();
      await released;
      return w.sessions.create(family);
    },
    get: (familyId) => w.sessions.get(familyId),
    rotate: (familyId, presented, next) => w.sessions.rotate(familyId, presented, next),
    revoke: (familyId, reason) => w.sessions.revoke(familyId, reason),
    revokeAllForUser: (userId, reason, except) => w.sessions.revokeAllForUser(userId, reason, except),
  };
  const tokens = signInWith(w, password, sessions);
  return { atWrite, release, tokens };
}

const alive = async (w: World, t: TokenResponse) => (await authenticate(authDeps(w), `Bearer ${t.accessToken}`)).sessionId;

async function assertDead(w: World, t: TokenResponse): Promise<void> {
  await rejectsWith(authenticate(authDeps(w), `Bearer ${t.accessToken}`), 401, 'token_revoked');
  await rejectsWith(refresh(socketDeps(w), t.refreshToken, IP), 401, 'invalid_refresh_token');
}

const changes = {
  'a password change': async (w: World, caller: TokenResponse) => {
    await changePassword(
      socketDeps(w),
      await authenticate(authDeps(w), `Bearer ${caller.accessToken}`),
      { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
      IP,
    );
  },
  'logout-all': async (w: World, caller: TokenResponse) => logoutAll(socketDeps(w), await authenticate(authDeps(w), `Bearer ${caller.accessToken}`)),
  'a password reset': async (w: World) => {
    await requestOtp(deliveryDeps(w), 'reset', ada, IP);
    await resetPassword(socketDeps(w), { identifier: ada, code: w.notifier.codeFor(ada.destination), newPassword: NEW_PASSWORD }, IP);
  },
};

describe('a sign-in racing a change that ends sessions', () => {
  for (const [name, change] of Object.entries(changes)) {
    test(`${name}: a sign-in that read the user before it is dead, though its family is written after it in the same millisecond`, async () => {
      const w = fakeWorld();
      await addUser(w, { email: ada.destination, password: PASSWORD });
      const caller = await signInWith(w, PASSWORD);
      const racing = heldSignIn(w, PASSWORD);
      await racing.atWrite; // read the user, checked the old password
      const changedAt = w.clock.now();
      await change(w, caller);
      racing.release();
      const late = await racing.tokens; // the sign-in completes: it was valid when it read
      const family = w.sessions.families.get(await sessionIdOf(late))!;
      assert.equal(family.createdAt, changedAt, 'written in the same millisecond as the change');
      assert.equal(family.revokedAt, undefined, 'the GSI-style revocation ran before it existed');
      await assertDead(w, late);

      if (name === 'a password change')
        await alive(w, caller); // the caller's session is kept
      else await assertDead(w, caller);
      // signing in after the change, in that same millisecond, works
      const again = await signInWith(w, name === 'logout-all' ? PASSWORD : NEW_PASSWORD);
      await alive(w, again);
      await refresh(socketDeps(w), again.refreshToken, IP);
    });
  }

  test('the kept session survives the next password change it makes; a session begun between the two does not', async () => {
    const w = fakeWorld();
    await addUser(w, { email: ada.destination, password: PASSWORD });
    const caller = await signInWith(w, PASSWORD);
    await changes['a password change'](w, caller);
    const between = await signInWith(w, NEW_PASSWORD);
    await alive(w, between);
    await changePassword(
      socketDeps(w),
      await authenticate(authDeps(w), `Bearer ${caller.accessToken}`),
      { currentPassword: NEW_PASSWORD, newPassword: PASSWORD },
      IP,
    );
    await alive(w, caller);
    await refresh(socketDeps(w), caller.refreshToken, IP);
    await assertDead(w, between);
  });

  test('a family of the old epoch created directly at the instant of the change is refused; one of the new epoch is not', async () => {
    const w = fakeWorld();
    const user = await addUser(w, { email: ada.destination, password: PASSWORD });
    const caller = await signInWith(w, PASSWORD);
    await changes['logout-all'](w, caller);
    const after = (await w.users.get(user.userId))!;
    assert.equal(after.tokensValidAfter, w.clock.now());
    const family = (epoch: string | undefined): FamilyRecord => ({
      familyId: `f-${epoch ?? 'none'}`,
      userId: user.userId,
      currentDigest: 'x',
      generation: 1,
      createdAt: after.tokensValidAfter, // not older than tokens-valid-after: that check alone lets it through
      epoch,
      expiresAt: Math.floor(w.clock.now() / 1000) + 3600,
    });
    await w.sessions.create(family(user.sessionEpoch));
    await rejectsWith(liveSession(authDeps(w), user.userId, 'f-none'), 401, 'token_revoked');
    await w.sessions.create(family(after.sessionEpoch));
    assert.equal((await liveSession(authDeps(w), user.userId, `f-${after.sessionEpoch}`)).sessionId, `f-${after.sessionEpoch}`);
  });
});

async function sessionIdOf(t: TokenResponse): Promise<string> {
  const claims = JSON.parse(Buffer.from(t.accessToken.split('.')[1]!, 'base64url').toString('utf8')) as { sid: string };
  return claims.sid;
}
