// The per-request token check: a bearer access token is accepted only while it is unexpired on the
// clock, not older than the user's tokens-valid-after, and its session family is alive.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { authenticate } from '#core/authn.ts';
import { deriveKeys } from '#core/signing-keys.ts';
import { issueAccessToken, issueRefreshToken } from '#core/tokens.ts';
import { addUser, authDeps, fakeWorld, rejectsWith, signIn, type World } from '../support/fakes.ts';

const bearer = (token: string) => `Bearer ${token}`;

/** A live family created now, with an access token issued at `issuedAt` (default now). */
async function familyWithToken(w: World, userId: string, issuedAt = w.clock.now()) {
  const familyId = randomUUID();
  const now = w.clock.now();
  await w.sessions.create({ familyId, userId, currentDigest: 'd', generation: 1, createdAt: now, expiresAt: Math.floor(now / 1000) + 3600 });
  const { token } = await issueAccessToken(w.keys, w.config.tokens, { sub: userId, sid: familyId, role: 'user' }, issuedAt);
  return { familyId, token };
}

describe('authenticate', () => {
  test('a fresh access token names its user, session and role', async () => {
    const w = fakeWorld();
    const user = await addUser(w, { role: 'moderator' });
    const s = await signIn(w, user.userId);
    const auth = await authenticate(authDeps(w), bearer(s.accessToken));
    assert.deepEqual([auth.userId, auth.sessionId, auth.role], [user.userId, s.sessionId, 'moderator']);
  });

  test('an access token is refused once the clock reaches its expiry', async () => {
    const w = fakeWorld();
    const user = await addUser(w);
    const s = await signIn(w, user.userId);
    w.clock.advance(w.config.tokens.accessTtlSeconds * 1000 - 1000);
    await authenticate(authDeps(w), bearer(s.accessToken));
    w.clock.advance(1000);
    await rejectsWith(authenticate(authDeps(w), bearer(s.accessToken)), 401, 'invalid_token');
  });

  test('a token issued before the user’s tokens-valid-after is refused even on a live session', async () => {
    const w = fakeWorld();
    const user = await addUser(w);
    const issuedAt = w.clock.now();
    w.clock.advance(5000);
    await w.users.update(user.userId, { tokensValidAfter: w.clock.now() });
    const old = await familyWithToken(w, user.userId, issuedAt); // the family itself is newer
    await rejectsWith(authenticate(authDeps(w), bearer(old.token)), 401, 'token_revoked');
    const fresh = await familyWithToken(w, user.userId);
    assert.equal((await authenticate(authDeps(w), bearer(fresh.token))).sessionId, fresh.familyId);
  });

  test('a session issued later in the same second as tokens-valid-after is alive (iat has whole seconds)', async () => {
    const w = fakeWorld();
    const user = await addUser(w);
    w.clock.advance(300);
    await w.users.update(user.userId, { tokensValidAfter: w.clock.now() });
    w.clock.advance(200);
    const s = await familyWithToken(w, user.userId);
    await authenticate(authDeps(w), bearer(s.token));
  });

  test('a revoked or expired session family kills its unexpired access tokens', async () => {
    const w = fakeWorld();
    const user = await addUser(w);
    const revoked = await signIn(w, user.userId);
    await w.sessions.revoke(revoked.sessionId, 'logout');
    await rejectsWith(authenticate(authDeps(w), bearer(revoked.accessToken)), 401, 'token_revoked');

    const familyId = randomUUID();
    const now = w.clock.now();
    await w.sessions.create({ familyId, userId: user.userId, currentDigest: 'd', generation: 1, createdAt: now, expiresAt: Math.floor(now / 1000) + 60 });
    const { token } = await issueAccessToken(w.keys, w.config.tokens, { sub: user.userId, sid: familyId, role: 'user' }, now);
    w.clock.advance(59_000);
    await authenticate(authDeps(w), bearer(token));
    w.clock.advance(1000);
    await rejectsWith(authenticate(authDeps(w), bearer(token)), 401, 'token_revoked');
  });

  test('a session of another user is not borrowed', async () => {
    const w = fakeWorld();
    const ada = await addUser(w);
    const bob = await addUser(w);
    const bobs = await signIn(w, bob.userId);
    const { token } = await issueAccessToken(w.keys, w.config.tokens, { sub: ada.userId, sid: bobs.sessionId, role: 'user' }, w.clock.now());
    await rejectsWith(authenticate(authDeps(w), bearer(token)), 401, 'token_revoked');
  });

  test('no header, a refresh token, or a token of another secret is refused', async () => {
    const w = fakeWorld();
    const user = await addUser(w);
    const s = await signIn(w, user.userId);
    await rejectsWith(authenticate(authDeps(w), undefined), 401, 'missing_token');
    await rejectsWith(authenticate(authDeps(w), s.accessToken), 401, 'missing_token');
    const refreshToken = await issueRefreshToken(
      w.keys,
      w.config.tokens,
      { sub: user.userId, sid: s.sessionId, expiresAt: Math.floor(w.clock.now() / 1000) + 3600 },
      w.clock.now(),
    );
    await rejectsWith(authenticate(authDeps(w), bearer(refreshToken)), 401, 'invalid_token');
    const otherKeys = deriveKeys({ kid: w.keys.current.kid, master: 'another-secret-of-enough-length-0123456789' });
    const { token: forged } = await issueAccessToken(otherKeys, w.config.tokens, { sub: user.userId, sid: s.sessionId, role: 'admin' }, w.clock.now());
    await rejectsWith(authenticate(authDeps(w), bearer(forged)), 401, 'invalid_token');
  });

  test('a banned user’s live session is refused with 403; a suspension ends on the clock', async () => {
    const w = fakeWorld();
    const banned = await addUser(w);
    const b = await signIn(w, banned.userId);
    await w.users.update(banned.userId, { status: 'banned' });
    await rejectsWith(authenticate(authDeps(w), bearer(b.accessToken)), 403, 'account_banned');

    const suspended = await addUser(w);
    const s = await signIn(w, suspended.userId);
    await w.users.update(suspended.userId, { status: 'suspended', suspendedUntil: w.clock.now() + 60_000 });
    await rejectsWith(authenticate(authDeps(w), bearer(s.accessToken)), 403, 'account_suspended');
    w.clock.advance(60_000);
    await authenticate(authDeps(w), bearer(s.accessToken));
  });
});
