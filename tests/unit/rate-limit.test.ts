// Per-client limits over the in-memory counter: fixed windows on the clock, one counter per name and
// key, and a 429 that says when to retry in the Retry-After and RateLimit headers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { enforce } from '#core/rate-limit.ts';
import { fakeWorld, rejectsWith } from '../support/fakes.ts';

test('the limit is counted per name and key, and the 429 says when the window ends', async () => {
  const w = fakeWorld({ env: { RATE_LIMITS: '{"searchUser":{"limit":2,"windowSeconds":60}}' } });
  w.clock.advance(15_500);
  await enforce(w, 'searchUser', 'ada');
  await enforce(w, 'searchUser', 'ada');
  await enforce(w, 'searchUser', 'bob');
  await enforce(w, 'ticketUser', 'ada');
  const limited = await rejectsWith(enforce(w, 'searchUser', 'ada'), 429, 'rate_limited');
  assert.deepEqual(limited.headers, { 'Retry-After': '45', 'RateLimit-Policy': '"searchUser";q=2;w=60', RateLimit: '"searchUser";r=0;t=45' });
  w.clock.advance(44_499);
  await rejectsWith(enforce(w, 'searchUser', 'ada'), 429, 'rate_limited');
  w.clock.advance(1);
  await enforce(w, 'searchUser', 'ada');
});

test('a full window stays closed to every retry and opens again when the clock reaches the next', async () => {
  const w = fakeWorld({ env: { RATE_LIMITS: '{"searchUser":{"limit":1,"windowSeconds":10}}' } });
  await enforce(w, 'searchUser', 'ada');
  for (let i = 0; i < 5; i++) await rejectsWith(enforce(w, 'searchUser', 'ada'), 429, 'rate_limited');
  w.clock.advance(10_000);
  await enforce(w, 'searchUser', 'ada');
  await rejectsWith(enforce(w, 'searchUser', 'ada'), 429, 'rate_limited');
});
