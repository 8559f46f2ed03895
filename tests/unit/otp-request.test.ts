// The OTP request path (and login) over in-memory ports: known and unknown identifiers cost the same
// port calls and one queued message each, whatever the purpose, and a message that must go nowhere
// carries neither the address nor the code. The worker side is tests/unit/otp-delivery.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { otpPurposes, type OtpPurpose } from '#contract/auth/schemas.ts';
import { login, requestOtp, type Identifier, type LoginDeps } from '#core/identity.ts';
import { addUser, deliveryDeps, fakeWorld, loginDeps, rejectsWith, type World } from '../support/fakes.ts';

const IP = '198.51.100.7';
const PASSWORD = 'violet-otter-sings-42';

/** The identifiers of one test: a free address, a password account's and a passwordless account's (all the same length). */
type Kind = 'unknown' | 'password' | 'passwordless';
const kinds: readonly Kind[] = ['unknown', 'password', 'passwordless'];

/** Who gets a code, by purpose (core/identity.ts requestOtp). */
const deliverable: Record<OtpPurpose, Kind> = {
  register: 'unknown',
  login: 'passwordless',
  password: 'passwordless',
  reset: 'password',
  reauth: 'passwordless',
};

/** Wraps every method of a port so each call is written down as `port.method`. */
function recorded<T extends object>(name: string, port: T, calls: string[]): T {
  return new Proxy(port, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(`${name}.${String(prop)}`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** Login deps whose data ports (users, challenges, limits, queue) record their calls. */
function recordingDeps(w: World, calls: string[]): LoginDeps {
  const d = loginDeps(w);
  return {
    ...d,
    users: recorded('users', d.users, calls),
    challenges: recorded('challenges', d.challenges, calls),
    limits: recorded('limits', d.limits, calls),
    notifier: recorded('queue', d.notifier, calls),
  };
}

async function world(): Promise<{ w: World; id: Record<Kind, Identifier> }> {
  const w = fakeWorld();
  await addUser(w, { email: 'pw-account@example.test', password: PASSWORD });
  await addUser(w, { email: 'no-password@example.test' });
  const id = (destination: string): Identifier => ({ channel: 'email', destination });
  return { w, id: { unknown: id('never-seen@example.test'), password: id('pw-account@example.test'), passwordless: id('no-password@example.test') } };
}

describe('the OTP request path', () => {
  for (const purpose of otpPurposes) {
    test(`${purpose}: unknown, password and passwordless identifiers make the same calls and queue one message each`, async () => {
      const { w, id } = await world();
      const calls = new Map<Kind, string[]>();
      const answers = new Map<Kind, unknown>();
      for (const kind of kinds) {
        const log: string[] = [];
        const queuedBefore = w.notifier.queued.length;
        answers.set(kind, await requestOtp(recordingDeps(w, log), purpose, id[kind], IP));
        calls.set(kind, log);
        assert.equal(w.notifier.queued.length, queuedBefore + 1, `${kind}: exactly one message queued`);
      }
      assert.deepEqual(calls.get('password'), calls.get('unknown'));
      assert.deepEqual(calls.get('passwordless'), calls.get('unknown'));
      assert.deepEqual(calls.get('unknown'), ['limits.hit', 'limits.hit', 'users.findIdByIdentifier', 'users.get', 'challenges.put', 'queue.sendOtp']);
      assert.deepEqual(answers.get('password'), answers.get('unknown'));
      assert.deepEqual(answers.get('passwordless'), answers.get('unknown'));

      // only the deliverable one carries the address and the code; the others a same-length placeholder
      const queued = w.notifier.queued;
      for (const [i, kind] of kinds.entries()) {
        const m = queued[i]!;
        assert.equal(m.deliver, kind === deliverable[purpose], `${kind} deliverable?`);
        assert.equal(m.destination.length, id[kind].destination.length);
        if (m.deliver) assert.equal(m.destination, id[kind].destination);
        else assert.deepEqual([m.destination, m.code], ['#'.repeat(id[kind].destination.length), '000000']);
        assert.deepEqual([m.channel, m.purpose], ['email', purpose]);
      }
      assert.deepEqual(
        w.notifier.sent.map((m) => m.destination),
        [id[deliverable[purpose]].destination],
      );
    });
  }

  test('an undeliverable code is still stored, so a later guess at it fails like any wrong code', async () => {
    const { w, id } = await world();
    await requestOtp(deliveryDeps(w), 'login', id.unknown, IP);
    assert.equal(w.challenges.items.size, 1);
    await rejectsWith(login(loginDeps(w), { identifier: id.unknown, code: '000000' }, IP), 401, 'invalid_code');
  });
});

describe('login does the same work for known and unknown identifiers', () => {
  test('a wrong password, an unknown account and a passwordless account given a password: the same calls, the same 401', async () => {
    const { w, id } = await world();
    const calls = new Map<Kind, string[]>();
    for (const kind of kinds) {
      const log: string[] = [];
      await rejectsWith(login(recordingDeps(w, log), { identifier: id[kind], password: 'not-the-password' }, IP), 401, 'invalid_credentials');
      calls.set(kind, log);
    }
    assert.deepEqual(calls.get('password'), calls.get('unknown'));
    assert.deepEqual(calls.get('passwordless'), calls.get('unknown'));
    assert.deepEqual(calls.get('unknown'), ['limits.hit', 'limits.hit', 'users.findIdByIdentifier', 'users.get']);
  });

  test('a code alone: for a password account, an unknown one and a passwordless one, the same calls and the same 401', async () => {
    const { w, id } = await world();
    const calls = new Map<Kind, string[]>();
    for (const kind of kinds) {
      const log: string[] = [];
      await rejectsWith(login(recordingDeps(w, log), { identifier: id[kind], code: '123456' }, IP), 401, 'invalid_code');
      calls.set(kind, log);
    }
    assert.deepEqual(calls.get('password'), calls.get('unknown'));
    assert.deepEqual(calls.get('passwordless'), calls.get('unknown'));
    assert.deepEqual(calls.get('unknown'), ['limits.hit', 'limits.hit', 'users.findIdByIdentifier', 'users.get', 'limits.hit', 'challenges.attempt']);
  });
});
