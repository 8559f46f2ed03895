// Profiles and people search over the in-memory users port: renaming oneself, opting in to be found
// by exact email or phone, and finding others (opted-in exact email or phone, or a display-name
// prefix; public fields only), counted per account and per source IP.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renameSelf, searchPeople, updateSelf, type SearchDeps } from '#core/users.ts';
import { addUser, fakeWorld, rejectsWith, type World } from '../support/fakes.ts';

const IP = '203.0.113.9';
const searchDeps = (w: World): SearchDeps => ({ users: w.users, limits: w.limits, config: w.config, clock: w.clock });

test('renaming changes the display name and the update time, and shows only public fields', async () => {
  const w = fakeWorld();
  const ada = await addUser(w, { displayName: 'Ada', password: 'violet-otter-sings-42' });
  w.clock.advance(1000);
  const renamed = await renameSelf(w, { userId: ada.userId, role: 'user' }, 'Ada L.');
  assert.deepEqual(renamed, {
    userId: ada.userId,
    displayName: 'Ada L.',
    email: ada.email,
    role: 'user',
    hasPassword: true,
    discoverable: false,
    createdAt: ada.createdAt,
  });
  assert.equal((await w.users.get(ada.userId))?.updatedAt, new Date(w.clock.now()).toISOString());
});

test('discovery by email or phone is off by default; the owner turns it on and off, and sees the flag', async () => {
  const w = fakeWorld();
  const ada = await addUser(w, { displayName: 'Ada' });
  const caller = { userId: ada.userId, role: 'user' as const };
  assert.equal((await updateSelf(w, caller, { discoverable: true })).discoverable, true);
  assert.equal((await w.users.get(ada.userId))?.discoverable, true, 'stored on the profile');
  assert.equal((await w.users.get(ada.userId))?.displayName, 'Ada', 'the name is untouched');
  const both = await updateSelf(w, caller, { displayName: 'Ada L.', discoverable: false });
  assert.deepEqual([both.displayName, both.discoverable], ['Ada L.', false]);
});

test('an exact email or phone finds a person only if they opted in; unregistered and not-opted-in addresses answer alike', async () => {
  const w = fakeWorld();
  const ada = await addUser(w, { displayName: 'Ada', email: 'ada@example.test', discoverable: true });
  const adam = await addUser(w, { displayName: 'adam', email: undefined, phone: '+14155550123', discoverable: true });
  const bob = await addUser(w, { displayName: 'Bob', email: 'bob@example.test' });
  await addUser(w, { displayName: 'Cy', email: undefined, phone: '+14155550199' });
  assert.deepEqual(await searchPeople(searchDeps(w), 'ada@example.test', IP), [{ userId: ada.userId, displayName: 'Ada' }]);
  assert.deepEqual(await searchPeople(searchDeps(w), '+14155550123', IP), [{ userId: adam.userId, displayName: 'adam' }]);
  for (const q of ['bob@example.test', 'nobody@example.test', '+14155550199', '+14155550100']) {
    assert.deepEqual(await searchPeople(searchDeps(w), q, IP), [], q);
  }
  await updateSelf(w, { userId: bob.userId, role: 'user' }, { discoverable: true });
  assert.deepEqual(await searchPeople(searchDeps(w), 'bob@example.test', IP), [{ userId: bob.userId, displayName: 'Bob' }]);
  await updateSelf(w, { userId: ada.userId, role: 'user' }, { discoverable: false });
  assert.deepEqual(await searchPeople(searchDeps(w), 'ada@example.test', IP), [], 'opting out hides again');
});

test('display-name prefix search is unchanged: everyone, opted in or not', async () => {
  const w = fakeWorld();
  await addUser(w, { displayName: 'Ada', discoverable: true });
  const adam = await addUser(w, { displayName: 'adam' });
  await addUser(w, { displayName: 'Bob' });
  assert.deepEqual((await searchPeople(searchDeps(w), 'AD', IP)).map((u) => u.displayName).sort(), ['Ada', 'adam']);
  assert.deepEqual(
    (await searchPeople(searchDeps(w), 'adam', IP)).map((u) => u.userId),
    [adam.userId],
  );
});

test('searches are counted per source IP, whichever account makes them', async () => {
  const w = fakeWorld({ env: { RATE_LIMITS: JSON.stringify({ searchIp: { limit: 3, windowSeconds: 300 } }) } });
  for (const q of ['ada', 'bob', 'cy@example.test']) await searchPeople(searchDeps(w), q, IP);
  const refused = await rejectsWith(searchPeople(searchDeps(w), 'dee', IP), 429, 'rate_limited');
  assert.equal(refused.headers['RateLimit-Policy'], '"searchIp";q=3;w=300');
  assert.ok(Number(refused.headers['Retry-After']) >= 1);
  assert.deepEqual(await searchPeople(searchDeps(w), 'dee', '198.51.100.1'), [], 'another address is not affected');
  w.clock.advance(300_000 + 30_000);
  assert.deepEqual(await searchPeople(searchDeps(w), 'dee', IP), [], 'after the window');
});
