// Profiles and people search over the in-memory users port: renaming oneself, and finding others by
// exact email or phone or by a display-name prefix, public fields only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renameSelf, searchPeople } from '#core/users.ts';
import { addUser, fakeWorld } from '../support/fakes.ts';

test('renaming changes the display name and the update time, and shows only public fields', async () => {
  const w = fakeWorld();
  const ada = await addUser(w, { displayName: 'Ada', password: 'violet-otter-sings-42' });
  w.clock.advance(1000);
  const renamed = await renameSelf(w, { userId: ada.userId, role: 'user' }, 'Ada L.');
  assert.deepEqual(renamed, { userId: ada.userId, displayName: 'Ada L.', email: ada.email, role: 'user', hasPassword: true, createdAt: ada.createdAt });
  assert.equal((await w.users.get(ada.userId))?.updatedAt, new Date(w.clock.now()).toISOString());
});

test('an exact email or phone finds one person; anything else is a display-name prefix search', async () => {
  const w = fakeWorld();
  const ada = await addUser(w, { displayName: 'Ada', email: 'ada@example.test' });
  const adam = await addUser(w, { displayName: 'adam', email: undefined, phone: '+14155550123' });
  await addUser(w, { displayName: 'Bob' });
  assert.deepEqual(await searchPeople(w, 'ada@example.test'), [{ userId: ada.userId, displayName: 'Ada' }]);
  assert.deepEqual(await searchPeople(w, '+14155550123'), [{ userId: adam.userId, displayName: 'adam' }]);
  assert.deepEqual(await searchPeople(w, 'nobody@example.test'), []);
  assert.deepEqual((await searchPeople(w, 'AD')).map((u) => u.displayName).sort(), ['Ada', 'adam']);
  assert.deepEqual(
    (await searchPeople(w, 'adam')).map((u) => u.userId),
    [adam.userId],
  );
});
