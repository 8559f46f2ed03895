// Per-client limits over the in-memory limiter (the sliding window of LimitsPort): one count per name
// and key, no burst past the limit at any window edge, and a 429 whose Retry-After is honest.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { enforce } from '#core/rate-limit.ts';
import { LIMIT_SUBWINDOWS } from '#core/ports.ts';
import { FakeLimits, ManualClock, fakeWorld, rejectsWith } from '../support/fakes.ts';

const world = (limit: number, windowSeconds: number) => fakeWorld({ env: { RATE_LIMITS: JSON.stringify({ searchUser: { limit, windowSeconds } }) } });
const retryAfter = (e: { headers?: Record<string, string> }) => Number(e.headers!['Retry-After']);

/** True when no interval [x, x + windowMs) holds more than `limit` of the (sorted) times. */
function boundedInEveryWindow(times: number[], limit: number, windowMs: number): boolean {
  return times.every((t, i) => i + limit >= times.length || times[i + limit]! - t >= windowMs);
}

test('the limit is counted per name and key, and the 429 says when the window has room again', async () => {
  const w = world(2, 60); // sub-windows of 6 s
  w.clock.advance(15_500); // sub-window 2
  await enforce(w, 'searchUser', 'ada');
  await enforce(w, 'searchUser', 'ada');
  await enforce(w, 'searchUser', 'bob');
  await enforce(w, 'ticketUser', 'ada');
  const limited = await rejectsWith(enforce(w, 'searchUser', 'ada'), 429, 'rate_limited');
  // sub-window 2 leaves the window when sub-window 13 starts, at 78 s: 62.5 s away, rounded up
  assert.deepEqual(limited.headers, { 'Retry-After': '63', 'RateLimit-Policy': '"searchUser";q=2;w=60', RateLimit: '"searchUser";r=0;t=63' });
  w.clock.advance(62_499);
  await rejectsWith(enforce(w, 'searchUser', 'ada'), 429, 'rate_limited');
  w.clock.advance(1);
  await enforce(w, 'searchUser', 'ada');
});

test('a full window stays closed to every retry and opens once its first hit has slid out', async () => {
  const w = world(1, 10); // sub-windows of 1 s
  await enforce(w, 'searchUser', 'ada');
  for (let i = 0; i < 5; i++) await rejectsWith(enforce(w, 'searchUser', 'ada'), 429, 'rate_limited');
  w.clock.advance(10_999); // a fixed window would have opened at 10 s
  await rejectsWith(enforce(w, 'searchUser', 'ada'), 429, 'rate_limited');
  w.clock.advance(1);
  await enforce(w, 'searchUser', 'ada');
  await rejectsWith(enforce(w, 'searchUser', 'ada'), 429, 'rate_limited');
});

test('no burst at a window edge: N hits just before it, then every hit after it is refused until the burst slides out', async () => {
  const [limit, windowMs] = [5, 60_000];
  const w = world(limit, 60);
  w.clock.advance(windowMs - 1000); // 1 s before what used to be the window edge
  const accepted: number[] = [];
  for (let i = 0; i < limit; i++) {
    await enforce(w, 'searchUser', 'ada');
    accepted.push(w.clock.now());
  }
  const burst = w.clock.now();
  w.clock.advance(2000); // just past the edge: a fixed window would take 5 more here
  const first = await rejectsWith(enforce(w, 'searchUser', 'ada'), 429, 'rate_limited');
  assert.ok(burst + windowMs <= w.clock.now() + retryAfter(first) * 1000, 'not before the burst has slid out');
  assert.ok(w.clock.now() + retryAfter(first) * 1000 <= burst + windowMs + windowMs / LIMIT_SUBWINDOWS + 1000, 'at most one sub-window later');
  // then one hit a second for three windows: never more than N in any window-length interval
  const end = w.clock.now() + 3 * windowMs;
  while (w.clock.now() < end) {
    w.clock.advance(1000);
    try {
      await enforce(w, 'searchUser', 'ada');
      accepted.push(w.clock.now());
    } catch {
      // refused
    }
  }
  assert.ok(boundedInEveryWindow(accepted, limit, windowMs), accepted.map((t) => (t - burst) / 1000).join());
  assert.ok(accepted.length >= 3 * limit, `the window keeps sliding: ${accepted.length} accepted`);
  assert.ok(accepted[limit]! - burst < windowMs + windowMs / LIMIT_SUBWINDOWS, 'capacity comes back within a sub-window of the sliding log');
});

test('3 x limit concurrent hits: exactly limit accepted', async () => {
  const w = world(7, 60);
  const results = await Promise.allSettled(Array.from({ length: 21 }, () => enforce(w, 'searchUser', 'ada')));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 7);
});

test('Retry-After is honest for any schedule: a retry that much later is accepted, one second earlier is not; no window ever holds more than the limit', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 120 }),
      fc.array(fc.tuple(fc.nat({ max: 3000 }), fc.integer({ min: 1, max: 4 })), { minLength: 1, maxLength: 40 }),
      async (limit, windowSeconds, steps) => {
        const w = world(limit, windowSeconds);
        const accepted: number[] = [];
        for (const [advancePermille, hits] of steps) {
          w.clock.advance(advancePermille * windowSeconds); // 0 to 3 windows, in ms
          for (let i = 0; i < hits; i++) {
            try {
              await enforce(w, 'searchUser', 'ada');
              accepted.push(w.clock.now());
            } catch (error) {
              const seconds = retryAfter(error as { headers?: Record<string, string> });
              // probe on a copy, so the schedule itself goes on undisturbed
              const clock = new ManualClock(w.clock.now());
              const probe = new FakeLimits(clock);
              for (const [id, log] of w.limits.accepted) probe.accepted.set(id, [...log]);
              const policy = w.config.rateLimits.searchUser;
              if (seconds > 1) {
                clock.advance((seconds - 1) * 1000);
                assert.equal((await probe.hit('searchUser', 'ada', policy)).allowed, false, 'one second early');
                clock.advance(1000);
              } else clock.advance(1000);
              assert.equal((await probe.hit('searchUser', 'ada', policy)).allowed, true, `after Retry-After ${seconds}`);
            }
          }
        }
        assert.ok(boundedInEveryWindow(accepted, limit, windowSeconds * 1000));
      },
    ),
    { numRuns: 300 },
  );
});
