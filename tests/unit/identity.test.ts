// Identity flows over in-memory ports: registration with a code, sign-in, refresh rotation and reuse
// detection, the ways sessions end (with their sockets), and OTP expiry, attempts and single use,
// with time moved by the clock instead of slept.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authenticate } from '#core/authn.ts';
import {
  changePassword,
  deleteAccount,
  login,
  logout,
  logoutAll,
  refresh,
  register,
  requestOtp,
  resetPassword,
  type Identifier,
  type TokenResponse,
} from '#core/identity.ts';
import { addUser, authDeps, deletionDeps, deliveryDeps, fakeWorld, loginDeps, rejectsWith, socketDeps, type World } from '../support/fakes.ts';

const IP = '198.51.100.7';
const PASSWORD = 'violet-otter-sings-42';
const email = (destination: string): Identifier => ({ channel: 'email', destination });

/** `password: null` registers a passwordless account. */
async function registerWithCode(w: World, destination: string, password: string | null = PASSWORD): Promise<TokenResponse> {
  await requestOtp(deliveryDeps(w), 'register', email(destination), IP);
  const code = w.notifier.codeFor(destination);
  return register(deliveryDeps(w), { identifier: email(destination), displayName: 'Ada', password: password ?? undefined, code }, IP);
}

async function signInWithPassword(w: World, destination: string, password = PASSWORD): Promise<TokenResponse> {
  const result = await login(loginDeps(w), { identifier: email(destination), password }, IP);
  assert.equal(result.kind, 'tokens');
  return (result as Extract<typeof result, { kind: 'tokens' }>).tokens;
}

const sessionOf = async (w: World, t: TokenResponse) => (await authenticate(authDeps(w), `Bearer ${t.accessToken}`)).sessionId;

/** A code that is certainly not the one sent. */
const wrong = (code: string) => (code === '000000' ? '000001' : '000000');

describe('registration and sign-in', () => {
  test('a new user registers with the emailed code, signs in with the password, and each refresh rotates the token', async () => {
    const w = fakeWorld();
    const reg = await registerWithCode(w, 'ada@example.test');
    assert.deepEqual(
      w.notifier.sent.map((m) => [m.purpose, m.channel, m.destination]),
      [['register', 'email', 'ada@example.test']],
    );
    assert.equal(reg.user.email, 'ada@example.test');
    assert.equal(reg.user.hasPassword, true);

    const tokens = await signInWithPassword(w, 'ada@example.test');
    const auth = await authenticate(authDeps(w), `Bearer ${tokens.accessToken}`);
    assert.equal(auth.userId, reg.user.userId);

    const first = await refresh(socketDeps(w), tokens.refreshToken, IP);
    assert.notEqual(first.refreshToken, tokens.refreshToken);
    const second = await refresh(socketDeps(w), first.refreshToken, IP);
    assert.equal(w.sessions.families.get(auth.sessionId)?.generation, 3);
    assert.equal((await authenticate(authDeps(w), `Bearer ${second.accessToken}`)).sessionId, auth.sessionId);
  });

  test('wrong passwords and unknown accounts get the same 401', async () => {
    const w = fakeWorld();
    await addUser(w, { email: 'ada@example.test', password: PASSWORD });
    await rejectsWith(login(loginDeps(w), { identifier: email('ada@example.test'), password: 'not-the-password' }, IP), 401, 'invalid_credentials');
    await rejectsWith(login(loginDeps(w), { identifier: email('nobody@example.test'), password: PASSWORD }, IP), 401, 'invalid_credentials');
  });

  test('registration needs the code and refuses a common password, creating nothing', async () => {
    const w = fakeWorld();
    await rejectsWith(
      register(deliveryDeps(w), { identifier: email('ada@example.test'), displayName: 'Ada', password: PASSWORD }, IP),
      400,
      'validation_failed',
    );
    await requestOtp(deliveryDeps(w), 'register', email('ada@example.test'), IP);
    const code = w.notifier.codeFor('ada@example.test');
    await rejectsWith(
      register(deliveryDeps(w), { identifier: email('ada@example.test'), displayName: 'Ada', password: 'password123', code }, IP),
      400,
      'validation_failed',
    );
    assert.equal(w.users.records.size, 0);
    // the refused attempt did not burn the code
    await register(deliveryDeps(w), { identifier: email('ada@example.test'), displayName: 'Ada', password: PASSWORD, code }, IP);
    assert.equal(w.users.records.size, 1);
  });

  test('asking for a register code reveals nothing: a taken address gets the same answer and no email', async () => {
    const w = fakeWorld();
    await addUser(w, { email: 'taken@example.test', password: PASSWORD });
    const taken = await requestOtp(deliveryDeps(w), 'register', email('taken@example.test'), IP);
    const free = await requestOtp(deliveryDeps(w), 'register', email('free@example.test'), IP);
    assert.deepEqual(taken, free);
    assert.deepEqual(
      w.notifier.sent.map((m) => m.destination),
      ['free@example.test'],
    );
  });

  test('a failed delivery answers like a sent one and is recorded without the code', async () => {
    const w = fakeWorld();
    w.notifier.failWith = Object.assign(new Error('throttled'), { name: 'Throttling' });
    const answer = await requestOtp(deliveryDeps(w), 'register', email('ada@example.test'), IP);
    assert.equal(answer.expiresIn, w.config.otp.ttlSeconds);
    assert.deepEqual(w.events.named('otp_delivery_failed'), [
      { name: 'otp_delivery_failed', data: { channel: 'email', purpose: 'register', errorName: 'Throttling' } },
    ]);
  });

  test('a suspended account is refused until the clock passes the end of the suspension', async () => {
    const w = fakeWorld();
    const until = w.clock.now() + 3600_000;
    await addUser(w, { email: 'ada@example.test', password: PASSWORD, status: 'suspended', suspendedUntil: until });
    const refused = await rejectsWith(login(loginDeps(w), { identifier: email('ada@example.test'), password: PASSWORD }, IP), 403, 'account_suspended');
    assert.deepEqual(refused.details, { until: new Date(until).toISOString() });
    w.clock.advance(3600_000 - 1);
    await rejectsWith(login(loginDeps(w), { identifier: email('ada@example.test'), password: PASSWORD }, '198.51.100.8'), 403, 'account_suspended');
    w.clock.advance(1);
    const tokens = await login(loginDeps(w), { identifier: email('ada@example.test'), password: PASSWORD }, '198.51.100.9');
    assert.equal(tokens.kind, 'tokens');
  });

  test('a banned account is refused', async () => {
    const w = fakeWorld();
    await addUser(w, { email: 'ada@example.test', password: PASSWORD, status: 'banned' });
    await rejectsWith(login(loginDeps(w), { identifier: email('ada@example.test'), password: PASSWORD }, IP), 403, 'account_banned');
  });
});

describe('rate limits', () => {
  test('the sixth login from one address in a window is 429 with Retry-After counted on the clock', async () => {
    const w = fakeWorld();
    w.clock.advance(120_000); // two minutes in: the sub-window 120-150 s leaves the 5-minute window at 450 s
    for (let i = 0; i < 5; i++) {
      await rejectsWith(login(loginDeps(w), { identifier: email(`u${i}@example.test`), password: PASSWORD }, IP), 401, 'invalid_credentials');
    }
    const limited = await rejectsWith(login(loginDeps(w), { identifier: email('u9@example.test'), password: PASSWORD }, IP), 429, 'rate_limited');
    assert.equal(limited.headers['Retry-After'], '330');
    assert.deepEqual(limited.details, { limited: 'login attempts from this address', retryAfterSeconds: 330 });
    // another address is not affected
    await rejectsWith(login(loginDeps(w), { identifier: email('u9@example.test'), password: PASSWORD }, '203.0.113.1'), 401, 'invalid_credentials');

    w.clock.advance(330_000 - 1);
    const last = await rejectsWith(login(loginDeps(w), { identifier: email('u9@example.test'), password: PASSWORD }, IP), 429, 'rate_limited');
    assert.equal(last.headers['Retry-After'], '1');
    w.clock.advance(1);
    await rejectsWith(login(loginDeps(w), { identifier: email('u9@example.test'), password: PASSWORD }, IP), 401, 'invalid_credentials');
  });

  test('a new code for the same address waits for the resend delay, which the 429 counts down', async () => {
    const w = fakeWorld();
    await requestOtp(deliveryDeps(w), 'register', email('ada@example.test'), IP);
    const firstCode = w.notifier.codeFor('ada@example.test');
    w.clock.advance(20_000);
    const limited = await rejectsWith(requestOtp(deliveryDeps(w), 'register', email('ada@example.test'), IP), 429, 'rate_limited');
    assert.equal(limited.headers['Retry-After'], String(w.config.otp.resendSeconds - 20));
    w.clock.advance((w.config.otp.resendSeconds - 20) * 1000);
    await requestOtp(deliveryDeps(w), 'register', email('ada@example.test'), IP);
    const secondCode = w.notifier.codeFor('ada@example.test');
    assert.equal(w.notifier.sent.length, 2);
    // the new code replaced the old one
    if (firstCode !== secondCode) {
      await rejectsWith(
        register(deliveryDeps(w), { identifier: email('ada@example.test'), displayName: 'Ada', password: PASSWORD, code: firstCode }, IP),
        401,
        'invalid_code',
      );
    }
    await register(deliveryDeps(w), { identifier: email('ada@example.test'), displayName: 'Ada', password: PASSWORD, code: secondCode }, IP);
  });
});

describe('one-time codes', () => {
  test('a code works until its time-to-live has passed on the clock, not a millisecond later', async () => {
    const w = fakeWorld();
    await requestOtp(deliveryDeps(w), 'register', email('early@example.test'), IP);
    await requestOtp(deliveryDeps(w), 'register', email('late@example.test'), IP);
    w.clock.advance(w.config.otp.ttlSeconds * 1000 - 1);
    await register(
      deliveryDeps(w),
      { identifier: email('early@example.test'), displayName: 'E', password: PASSWORD, code: w.notifier.codeFor('early@example.test') },
      IP,
    );
    w.clock.advance(1);
    await rejectsWith(
      register(
        deliveryDeps(w),
        { identifier: email('late@example.test'), displayName: 'L', password: PASSWORD, code: w.notifier.codeFor('late@example.test') },
        IP,
      ),
      401,
      'invalid_code',
    );
    assert.equal(w.users.records.size, 1);
  });

  test('after the allowed wrong attempts even the right code fails; one fewer and it still works', async () => {
    const w = fakeWorld();
    const max = w.config.otp.maxAttempts;
    const tryRegister = (destination: string, code: string, ip: string) =>
      register(deliveryDeps(w), { identifier: email(destination), displayName: 'A', password: PASSWORD, code }, ip);

    await requestOtp(deliveryDeps(w), 'register', email('patient@example.test'), IP);
    const good = w.notifier.codeFor('patient@example.test');
    for (let i = 0; i < max - 1; i++) await rejectsWith(tryRegister('patient@example.test', wrong(good), '192.0.2.1'), 401, 'invalid_code');
    await tryRegister('patient@example.test', good, '192.0.2.2');

    await requestOtp(deliveryDeps(w), 'register', email('guesser@example.test'), IP);
    const right = w.notifier.codeFor('guesser@example.test');
    for (let i = 0; i < max; i++) await rejectsWith(tryRegister('guesser@example.test', wrong(right), '192.0.2.3'), 401, 'invalid_code');
    await rejectsWith(tryRegister('guesser@example.test', right, '192.0.2.4'), 401, 'invalid_code');
    assert.equal(w.users.records.size, 1);
  });

  test('a login code signs a passwordless account in once', async () => {
    const w = fakeWorld();
    const reg = await registerWithCode(w, 'pia@example.test', null);
    assert.equal(reg.user.hasPassword, false);
    await requestOtp(deliveryDeps(w), 'login', email('pia@example.test'), IP);
    const code = w.notifier.codeFor('pia@example.test');
    const first = await login(loginDeps(w), { identifier: email('pia@example.test'), code }, IP);
    assert.equal(first.kind, 'tokens');
    await rejectsWith(login(loginDeps(w), { identifier: email('pia@example.test'), code }, IP), 401, 'invalid_code');
  });

  test('two sign-ins racing with one code: exactly one gets in', async () => {
    const w = fakeWorld();
    await registerWithCode(w, 'pia@example.test', null);
    await requestOtp(deliveryDeps(w), 'login', email('pia@example.test'), IP);
    const code = w.notifier.codeFor('pia@example.test');
    const results = await Promise.allSettled([1, 2, 3].map(() => login(loginDeps(w), { identifier: email('pia@example.test'), code }, IP)));
    assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value.kind : (r.reason as { code: string }).code)).sort(), [
      'invalid_code',
      'invalid_code',
      'tokens',
    ]);
  });

  test('a code never replaces a password: none is sent, and a code alone is refused', async () => {
    const w = fakeWorld();
    await addUser(w, { email: 'ada@example.test', password: PASSWORD });
    await requestOtp(deliveryDeps(w), 'login', email('ada@example.test'), IP);
    assert.equal(w.notifier.sent.length, 0);
    await rejectsWith(login(loginDeps(w), { identifier: email('ada@example.test'), code: '123456' }, IP), 401, 'invalid_code');
  });

  test('with codes required at login, the code is a second step with the password, never instead of it', async () => {
    const w = fakeWorld({ env: { OTP_REQUIRED_FOR: 'register,login' } });
    await addUser(w, { email: 'ada@example.test', password: PASSWORD });
    const step = await login(loginDeps(w), { identifier: email('ada@example.test'), password: PASSWORD }, IP);
    assert.equal(step.kind, 'otp_required');
    const code = w.notifier.codeFor('ada@example.test');
    await rejectsWith(login(loginDeps(w), { identifier: email('ada@example.test'), code }, IP), 401, 'invalid_code');
    // the refused code-only attempt did not burn the owner's code
    const done = await login(loginDeps(w), { identifier: email('ada@example.test'), password: PASSWORD, code }, IP);
    assert.equal(done.kind, 'tokens');
  });
});

describe('ending sessions', () => {
  async function twoSessions(w: World) {
    const user = await addUser(w, { email: 'ada@example.test', password: PASSWORD });
    const a = await signInWithPassword(w, 'ada@example.test');
    const b = await signInWithPassword(w, 'ada@example.test');
    const [sa, sb] = [await sessionOf(w, a), await sessionOf(w, b)];
    return { user, a, b, sa, sb, socketA: w.connections.open(user.userId, sa), socketB: w.connections.open(user.userId, sb) };
  }

  test('reusing a superseded refresh token revokes that sign-in and closes its sockets, and only its', async () => {
    const w = fakeWorld();
    const { user, a, b, sa, socketA, socketB } = await twoSessions(w);
    const rotated = await refresh(socketDeps(w), a.refreshToken, IP);
    await rejectsWith(refresh(socketDeps(w), a.refreshToken, IP), 401, 'refresh_token_reused');

    assert.equal(w.sessions.families.get(sa)?.revokeReason, 'reuse_detected');
    await rejectsWith(refresh(socketDeps(w), rotated.refreshToken, IP), 401, 'invalid_refresh_token');
    await rejectsWith(authenticate(authDeps(w), `Bearer ${rotated.accessToken}`), 401, 'token_revoked');
    assert.equal(w.connections.isOpen(socketA), false);
    assert.equal(w.connections.isOpen(socketB), true);
    await refresh(socketDeps(w), b.refreshToken, IP);
    assert.deepEqual(
      w.events.named('refresh_token_reuse').map((e) => [e.data.userId, e.data.familyId]),
      [[user.userId, sa]],
    );
  });

  test('logout ends this session and its sockets; the other sign-in goes on', async () => {
    const w = fakeWorld();
    const { a, b, socketA, socketB } = await twoSessions(w);
    await logout(socketDeps(w), await authenticate(authDeps(w), `Bearer ${a.accessToken}`));
    await rejectsWith(refresh(socketDeps(w), a.refreshToken, IP), 401, 'invalid_refresh_token');
    await rejectsWith(authenticate(authDeps(w), `Bearer ${a.accessToken}`), 401, 'token_revoked');
    assert.deepEqual([w.connections.isOpen(socketA), w.connections.isOpen(socketB)], [false, true]);
    await refresh(socketDeps(w), b.refreshToken, IP);
  });

  test('logout-all ends every session and socket, and signing in again at once works', async () => {
    const w = fakeWorld();
    const { a, b, socketA, socketB } = await twoSessions(w);
    w.clock.advance(400);
    await logoutAll(socketDeps(w), await authenticate(authDeps(w), `Bearer ${a.accessToken}`));
    for (const t of [a, b]) {
      await rejectsWith(refresh(socketDeps(w), t.refreshToken, IP), 401, 'invalid_refresh_token');
      await rejectsWith(authenticate(authDeps(w), `Bearer ${t.accessToken}`), 401, 'token_revoked');
    }
    assert.deepEqual([w.connections.isOpen(socketA), w.connections.isOpen(socketB)], [false, false]);
    const again = await signInWithPassword(w, 'ada@example.test');
    await authenticate(authDeps(w), `Bearer ${again.accessToken}`);
  });

  test('a password change keeps the calling session and ends every other one with its sockets', async () => {
    const w = fakeWorld();
    const { a, b, socketA, socketB } = await twoSessions(w);
    const authA = await authenticate(authDeps(w), `Bearer ${a.accessToken}`);
    await rejectsWith(
      changePassword(socketDeps(w), authA, { currentPassword: 'not-it-at-all', newPassword: 'amber-heron-glides-7' }, IP),
      403,
      'invalid_current_password',
    );
    await refresh(socketDeps(w), b.refreshToken, IP).then((t) => Object.assign(b, t)); // the refusal changed nothing

    await changePassword(socketDeps(w), authA, { currentPassword: PASSWORD, newPassword: 'amber-heron-glides-7' }, IP);
    await rejectsWith(refresh(socketDeps(w), b.refreshToken, IP), 401, 'invalid_refresh_token');
    assert.deepEqual([w.connections.isOpen(socketA), w.connections.isOpen(socketB)], [true, false]);
    await refresh(socketDeps(w), a.refreshToken, IP);
    await rejectsWith(login(loginDeps(w), { identifier: email('ada@example.test'), password: PASSWORD }, IP), 401, 'invalid_credentials');
    await signInWithPassword(w, 'ada@example.test', 'amber-heron-glides-7');
    assert.equal(w.events.named('password_changed').length, 1);
  });

  test('a password reset by code ends every session and socket', async () => {
    const w = fakeWorld();
    const { a, b, socketA, socketB } = await twoSessions(w);
    await requestOtp(deliveryDeps(w), 'reset', email('ada@example.test'), IP);
    const code = w.notifier.codeFor('ada@example.test');
    await resetPassword(socketDeps(w), { identifier: email('ada@example.test'), code, newPassword: 'amber-heron-glides-7' }, IP);
    for (const t of [a, b]) await rejectsWith(refresh(socketDeps(w), t.refreshToken, IP), 401, 'invalid_refresh_token');
    assert.deepEqual([w.connections.isOpen(socketA), w.connections.isOpen(socketB)], [false, false]);
    await signInWithPassword(w, 'ada@example.test', 'amber-heron-glides-7');
  });

  test('deleting the account ends its tokens and sockets, removes its keys and frees the address', async () => {
    const w = fakeWorld();
    const { user, a, socketA, socketB } = await twoSessions(w);
    w.publicKeys.current.set(user.userId, {
      userId: user.userId,
      identityKey: 'i',
      publicKey: 'p',
      signature: 's',
      version: 1,
      fingerprint: 'f',
      updatedAt: 'now',
    });
    await deleteAccount(deletionDeps(w), await authenticate(authDeps(w), `Bearer ${a.accessToken}`), { password: PASSWORD }, IP);
    assert.equal(await w.users.get(user.userId), undefined);
    assert.equal(await w.publicKeys.getCurrent(user.userId), undefined);
    assert.deepEqual([w.connections.isOpen(socketA), w.connections.isOpen(socketB)], [false, false]);
    await rejectsWith(authenticate(authDeps(w), `Bearer ${a.accessToken}`), 401, 'token_revoked');
    await registerWithCode(w, 'ada@example.test');
  });

  test('a refresh token dies with its family at the absolute end of the sign-in', async () => {
    const w = fakeWorld();
    await addUser(w, { email: 'ada@example.test', password: PASSWORD });
    const t = await signInWithPassword(w, 'ada@example.test');
    w.clock.advance(w.config.tokens.refreshTtlSeconds * 1000 - 1000);
    const late = await refresh(socketDeps(w), t.refreshToken, IP);
    assert.equal(late.refreshMaxAgeSeconds, 1);
    w.clock.advance(1000);
    await rejectsWith(refresh(socketDeps(w), late.refreshToken, IP), 401, 'invalid_refresh_token');
  });
});
