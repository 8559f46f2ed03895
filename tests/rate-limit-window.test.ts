// The sliding-window limiter against DynamoDB Local: through the gateway (no burst past the limit at a
// window edge, exact under concurrency, an honest Retry-After), and the adapter itself on a clock of
// its own (the same answers as the in-memory fake for any schedule, one round trip per hit, TTL).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { limitsTable } from '#adapters/dynamodb/ephemeral-table.ts';
import type { Db } from '#adapters/dynamodb/db.ts';
import { LIMIT_SUBWINDOWS as K } from '#core/ports.ts';
import type { Runtime } from '../local/runtime.ts';
import { FakeLimits, ManualClock } from './support/fakes.ts';
import { bearer, connectAs, signUp, uniqueEmail } from './support/identity.ts';
import { request, startTestRuntime, testEnv } from './support/runtime.ts';

let rt: Runtime;
const search = { limit: 5, windowSeconds: 100 }; // sub-windows of 10 s
const send = { limit: 4, windowSeconds: 60 }; // sub-windows of 6 s

before(async () => {
  rt = await startTestRuntime({ RATE_LIMITS: JSON.stringify({ ...JSON.parse(testEnv.RATE_LIMITS), searchUser: search, sendUser: send }) });
});
after(async () => rt?.stop());

/** Moves the runtime's clock forward to the next instant that is `offsetMs` into a period of `periodMs`. */
function alignTo(offsetMs: number, periodMs: number): number {
  const now = rt.clock.now();
  rt.clock.advance((((offsetMs - (now % periodMs)) % periodMs) + periodMs) % periodMs);
  return rt.clock.now();
}

/** One search, with the bounds of the server time it ran at (the runtime's clock also runs in real time). */
async function searchAt(token: string) {
  const from = rt.clock.now();
  const res = await request(rt.httpUrl, 'GET', `/api/users/search?q=${encodeURIComponent(uniqueEmail('probe'))}`, { headers: bearer(token) });
  assert.ok(res.status === 200 || res.status === 429, `${res.status} ${res.text}`);
  return { ok: res.status === 200, retryAfter: Number(res.headers.get('retry-after')), from, to: rt.clock.now(), res };
}

/** Retry-After is the whole seconds from the refusal (some time in [from, to]) to retryAt, rounded up. */
function assertRetryAfter(seconds: number, r: { from: number; to: number }, retryAt: number) {
  const [lo, hi] = [Math.ceil((retryAt - r.to) / 1000), Math.ceil((retryAt - r.from) / 1000)];
  assert.ok(lo <= seconds && seconds <= hi, `Retry-After ${seconds}, expected ${lo === hi ? lo : `${lo}..${hi}`}`);
}

describe('through the gateway', () => {
  test('no burst at a window edge: 5 searches just before it, then none after it until the burst has slid out; never 6 in 100 s', async () => {
    const a = await signUp(rt);
    const edge = alignTo(97_000, 100_000) + 3000; // 3 s before what was a fixed window's edge
    const accepted: Array<{ from: number; to: number }> = [];
    for (let i = 0; i < search.limit; i++) {
      const r = await searchAt(a.accessToken);
      assert.ok(r.ok, `burst hit ${i}`);
      accepted.push(r);
    }
    rt.clock.advance(edge + 500 - rt.clock.now()); // just past the edge: fixed windows took 5 more here
    const refused = await searchAt(a.accessToken);
    assert.equal(refused.res.status, 429);
    assert.equal(refused.res.headers.get('ratelimit-policy'), '"searchUser";q=5;w=100');
    // the burst's sub-window (the one ending at the edge) leaves the window 100 s after the edge
    assertRetryAfter(refused.retryAfter, refused, edge + 100_000);
    assert.equal(refused.res.headers.get('ratelimit'), `"searchUser";r=0;t=${refused.retryAfter}`);

    // then one search every 5 s (0.5 s into each 5 s step) for three windows
    const outcomes: Array<{ at: number; ok: boolean }> = [];
    while (rt.clock.now() < edge + 300_000) {
      alignTo(500, 5000);
      const r = await searchAt(a.accessToken);
      outcomes.push({ at: r.from - edge, ok: r.ok });
      if (r.ok) accepted.push(r);
    }
    const okAt = outcomes.filter((o) => o.ok).map((o) => Math.round(o.at / 100) / 10);
    assert.ok(
      outcomes.every((o) => !o.ok || o.at >= 100_000),
      `refused until the window has slid past the burst; accepted at ${okAt.join(', ')} s after the edge`,
    );
    assert.ok(
      outcomes.some((o) => o.ok && o.at < 100_000 + 10_000),
      'and accepted again within one sub-window of that',
    );
    // any 100 s interval: the 6th accepted search after one is more than 100 s later (server time bounds)
    for (let i = 0; i + search.limit < accepted.length; i++) {
      assert.ok(accepted[i + search.limit]!.from - accepted[i]!.to >= search.windowSeconds * 1000, `6 searches within 100 s at hit ${i}`);
    }
    assert.ok(accepted.length >= 3 * search.limit, `${accepted.length} accepted in 3 windows`);
  });

  test('3 x limit concurrent searches by one user: exactly the limit is served', async () => {
    const a = await signUp(rt);
    const results = await Promise.all(Array.from({ length: 3 * search.limit }, () => searchAt(a.accessToken)));
    assert.equal(results.filter((r) => r.ok).length, search.limit, results.map((r) => r.res.status).join());
    assert.ok(results.filter((r) => !r.ok).every((r) => r.retryAfter >= 1));
  });

  test('Retry-After is honest: retrying that many seconds later is served, one second earlier is refused', async () => {
    const a = await signUp(rt);
    const g = (search.windowSeconds * 1000) / K;
    const start = alignTo(500, g) - 500; // 0.5 s into a sub-window
    for (let i = 0; i < search.limit; i++) assert.ok((await searchAt(a.accessToken)).ok);
    const refused = await searchAt(a.accessToken);
    assertRetryAfter(refused.retryAfter, refused, start + search.windowSeconds * 1000 + g); // when the burst's sub-window has left
    rt.clock.advance(refused.from + (refused.retryAfter - 1) * 1000 - rt.clock.now());
    const early = await searchAt(a.accessToken);
    assert.equal(early.ok, false, 'one second early');
    assert.equal(early.retryAfter, 1);
    rt.clock.advance(refused.to + refused.retryAfter * 1000 - rt.clock.now());
    assert.ok((await searchAt(a.accessToken)).ok, 'on time');
  });

  test('sends over the socket: 4 just before a window edge, none just after it, the next when the burst has slid out', async () => {
    const [a, b] = [await signUp(rt), await signUp(rt)];
    const s = await connectAs(rt, b.accessToken);
    let n = 0;
    const sendOne = async () => {
      s.send({
        action: 'sendMessage',
        to: a.userId,
        clientMessageId: `window-${n++}`,
        ciphertext: Buffer.alloc(32).toString('base64'),
        nonce: Buffer.alloc(24).toString('base64'),
        senderKeyVersion: 1,
        recipientKeyVersion: 1,
      });
      return s.next((f) => f.type === 'ack' || f.type === 'error');
    };
    const edge = alignTo(57_000, 60_000) + 3000;
    for (let i = 0; i < send.limit; i++) assert.equal((await sendOne()).type, 'ack');
    rt.clock.advance(edge + 1000 - rt.clock.now());
    const from = rt.clock.now();
    const refused = await sendOne();
    assert.equal(refused.code, 'rate_limited');
    assertRetryAfter(refused.details.retryAfterSeconds, { from, to: rt.clock.now() }, edge + 60_000); // the burst's sub-window leaves
    rt.clock.advance(edge + 59_500 - rt.clock.now());
    assert.equal((await sendOne()).code, 'rate_limited', '0.5 s before the burst has slid out');
    rt.clock.advance(edge + 60_500 - rt.clock.now());
    assert.equal((await sendOne()).type, 'ack');
    await s.close();
  });
});

/** The runtime's tables behind a document client that counts its calls. */
function countingDb(): { db: Db; calls: () => number } {
  let calls = 0;
  const doc = new Proxy(rt.db.doc, {
    get: (target, prop, receiver) =>
      prop === 'send'
        ? (command: Parameters<typeof target.send>[0]) => {
            calls++;
            return target.send(command);
          }
        : Reflect.get(target, prop, receiver),
  });
  return { db: { client: rt.db.client, doc, table: (id) => rt.db.table(id) }, calls: () => calls };
}

describe('the adapter', () => {
  test('gives the same answers as the in-memory fake for any schedule, in one round trip per hit (two after a long idle)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 90 }),
        // time steps in thousandths of a window: mostly short, sometimes many windows (idle keys)
        fc.array(fc.tuple(fc.oneof(fc.nat({ max: 400 }), fc.nat({ max: 8000 })), fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 25 }),
        async (limit, windowSeconds, steps) => {
          const key = `prop-${run++}`;
          const clock = new ManualClock(Date.UTC(2031, 0, 1) + run * 7919);
          const { db, calls } = countingDb();
          const adapter = limitsTable(db, clock);
          const fake = new FakeLimits(clock);
          const g = (windowSeconds * 1000) / K;
          const policy = { limit, windowSeconds };
          let lastAccepted: number | undefined;
          for (const [permille, hits] of steps) {
            clock.advance(permille * windowSeconds);
            for (let i = 0; i < hits; i++) {
              const before = calls();
              const got = await adapter.hit('prop', key, policy);
              const want = await fake.hit('prop', key, policy);
              assert.deepEqual(got, want, `hit at ${(clock.now() % 1e7) / 1000} s`);
              const j = Math.floor(clock.now() / g);
              const longIdle = lastAccepted !== undefined && j - lastAccepted > 64 - K - 1;
              assert.equal(calls() - before, longIdle ? 2 : 1, longIdle ? 'a reset after a long idle' : 'one round trip');
              if (got.allowed) lastAccepted = j;
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test('3 x limit concurrent hits: exactly limit accepted, one round trip each, fresh key or busy key', async () => {
    const clock = new ManualClock(Date.UTC(2032, 0, 1));
    const { db, calls } = countingDb();
    const limits = limitsTable(db, clock);
    const policy = { limit: 25, windowSeconds: 60 };
    for (const key of ['fresh', 'busy']) {
      if (key === 'busy') {
        for (let i = 0; i < 10; i++) await limits.hit('conc', key, policy);
        clock.advance(70_000); // those 10 slid out; the item stays
      }
      const before = calls();
      const results = await Promise.all(Array.from({ length: 3 * policy.limit }, () => limits.hit('conc', key, policy)));
      assert.equal(results.filter((r) => r.allowed).length, policy.limit, key);
      assert.equal(calls() - before, 3 * policy.limit, `${key}: one call per hit`);
      clock.advance(1000);
    }
  });

  test('a container whose clock lags still counts into the window another one has moved on to', async () => {
    const ahead = new ManualClock(Date.UTC(2033, 0, 1) + 5_999); // last ms of sub-window 0 (6 s each)
    const behind = new ManualClock(ahead.now() - 10);
    const policy = { limit: 3, windowSeconds: 60 };
    const a = limitsTable(rt.db, ahead);
    const { db, calls } = countingDb();
    const b = limitsTable(db, behind);
    ahead.advance(1); // sub-window 1
    assert.equal((await a.hit('skew', 'k', policy)).allowed, true);
    assert.equal((await b.hit('skew', 'k', policy)).allowed, true);
    assert.equal(calls(), 2, 'one refused attempt in the old sub-window, one in the new');
    assert.equal((await b.hit('skew', 'k', policy)).allowed, true);
    assert.deepEqual(await a.hit('skew', 'k', policy), { allowed: false, retryAt: (Date.UTC(2033, 0, 1) / 6000 + 1 + K + 1) * 6000 });
  });

  test('every item expires once its latest sub-window has left the window', async () => {
    const clock = new ManualClock(Date.UTC(2034, 0, 1) + 12_345);
    await limitsTable(rt.db, clock).hit('ttl', 'k', { limit: 2, windowSeconds: 60 });
    const item = (await rt.db.doc.send(new GetCommand({ TableName: rt.db.table('ephemeral'), Key: { pk: 'RL#ttl#k', sk: 'SW#60' } }))).Item!;
    const sub = Math.floor(clock.now() / 6000);
    assert.equal(item.expiresAt, Math.ceil(((sub + K + 1) * 6000) / 1000) + 60);
    assert.ok(item.expiresAt * 1000 > clock.now() + 60_000 && item.expiresAt * 1000 <= clock.now() + 66_000 + 60_000);
  });
});
