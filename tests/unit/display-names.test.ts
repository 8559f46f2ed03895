// Display names cannot impersonate: the contract normalises them (NFKC) and refuses invisible,
// control, bidi and unassigned code points; the use cases refuse names that pass for staff to
// everyone but staff, on registration and on renaming, and change nothing when they refuse.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as z from 'zod/mini';
import { displayName } from '#contract/auth/schemas.ts';
import { updateMe } from '#contract/users/update-me.ts';
import { register, requestOtp } from '#core/identity.ts';
import { isReservedName, renameSelf } from '#core/users.ts';
import { addUser, deliveryDeps, fakeWorld, rejectsWith } from '../support/fakes.ts';

const body = updateMe.input.body;

describe('the display-name schema', () => {
  const refused: [string, string][] = [
    ['Adm\u200bin', 'zero-width space (Cf)'],
    ['Ada\u202Egnp.exe', 'right-to-left override (Cf)'],
    ['Ada\u2066x\u2069', 'bidi isolate (Cf)'],
    ['Ada\u200dBob', 'zero-width joiner outside an emoji (Cf)'],
    ['Ada\u0000', 'NUL (Cc)'],
    ['Ada\u0007', 'BEL (Cc)'],
    ['Ada\u0378', 'unassigned (Cn)'],
    ['Ada\u{F8FF}', 'private use (Co)'],
    ['Ada\uD800', 'lone surrogate (Cs)'],
    ['Ada\u3164Bob', 'Hangul filler (default ignorable)'],
    ['Ada\u2028Bob', 'line separator'],
  ];
  for (const [name, why] of refused) {
    test(`refuses ${why}`, () => {
      const out = z.safeParse(body, { displayName: name });
      assert.equal(out.success, false);
      assert.deepEqual(
        out.error!.issues.map((i) => [i.path.join('.'), i.message]),
        [['displayName', 'Control, invisible, formatting (bidi) and unassigned characters are not allowed']],
      );
    });
  }

  test('stores NFKC forms: full-width letters, ligatures and circled letters become plain ones', () => {
    assert.equal(z.parse(displayName, 'Ａｄａ Ｌｏｖｅｌａｃｅ'), 'Ada Lovelace');
    assert.equal(z.parse(displayName, 'ﬁona'), 'fiona');
    assert.equal(z.parse(displayName, '  Ⓑob  '), 'Bob');
    assert.equal(z.parse(displayName, 'Zoe\u0308'), 'Zoë', 'composed');
  });

  test('ordinary names with accents, other scripts and emoji are accepted as written', () => {
    for (const name of ['José Müller', 'Łukasz Żółć', '李小龍', 'さくら', 'Ольга', 'محمد', 'Ada 😀', '👩🏽‍💻 Dev', '👨‍👩‍👧 family', '🏳️‍🌈 Sam', '🏴󠁧󠁢󠁳󠁣󠁴󠁿 Ewan', '❤️ Lou']) {
      assert.equal(z.parse(displayName, name), name.normalize('NFKC'), name);
    }
  });
});

describe('names that pass for staff', () => {
  test('reserved however they are written: case, NFKC, digits and symbols for letters, separators, look-alike scripts, repeats', () => {
    const reserved = [
      'Admin',
      'ADMIN',
      'adm1n',
      '4dm1n',
      '@dmin',
      'A d m i n',
      'A.d.m.i.n',
      'adm_in',
      'Ａｄｍｉｎ',
      '𝐀𝐝𝐦𝐢𝐧',
      'Ⓐⓓⓜⓘⓝ',
      'ᴀᴅᴍɪɴ',
      'аdmin' /* Cyrillic а */,
      'Ádmin',
      'adrnin',
      'aadmiin',
      'Admin2',
      'TheAdmin',
      'Adm\u200bin',
      'm0d3rat0r',
      'Moderator',
      'Support',
      '$upp0rt',
      'Support Team',
      '0ff1c1al',
      'officia1',
      '5y5tem',
      'System',
      'NexChat',
      'nex chat',
      'N3xCh4t',
      'ΝΕΧCHΑΤ' /* Greek capitals */,
      'my nexchat',
    ];
    for (const name of reserved) assert.equal(isReservedName(name), true, name);
  });

  test('ordinary names that merely contain the letters are not', () => {
    for (const name of ['Ada', 'Badminton', 'Chad Minter', 'Brad Mintz', 'Sysadmin', 'Modest Mouse', 'Systole', 'Offi', 'José Müller', '李小龍', 'Ada 😀']) {
      assert.equal(isReservedName(name), false, name);
    }
  });

  test('renaming to a staff-like name: 400 with field detail for users, nothing changed; staff may', async () => {
    const w = fakeWorld();
    const ada = await addUser(w, { displayName: 'Ada' });
    const before = await w.users.get(ada.userId);
    w.clock.advance(1000);
    for (const name of ['Admin', 'N3xChat Support', 'm0derator']) {
      const refused = await rejectsWith(renameSelf(w, { userId: ada.userId, role: 'user' }, name), 400, 'validation_failed');
      assert.deepEqual(
        (refused.details as readonly { path: string; code: string }[]).map((d) => [d.path, d.code]),
        [['body.displayName', 'display_name_reserved']],
      );
    }
    assert.deepEqual(await w.users.get(ada.userId), before, 'nothing changed');

    for (const role of ['moderator', 'admin'] as const) {
      const staff = await addUser(w, { role });
      assert.equal((await renameSelf(w, { userId: staff.userId, role }, 'NexChat Support')).displayName, 'NexChat Support');
    }
  });

  test('registering with a staff-like name is refused before the code is spent; the same code then works with another name', async () => {
    const w = fakeWorld();
    const id = { channel: 'email' as const, destination: 'ada@example.test' };
    await requestOtp(deliveryDeps(w), 'register', id, '198.51.100.7');
    const code = w.notifier.codeFor(id.destination);
    const input = { identifier: id, password: 'violet-otter-sings-42', code };
    await rejectsWith(register(deliveryDeps(w), { ...input, displayName: 'Official Admin' }, '198.51.100.7'), 400, 'validation_failed');
    assert.equal(w.users.records.size, 0);
    const ok = await register(deliveryDeps(w), { ...input, displayName: 'Ada' }, '198.51.100.7');
    assert.equal(ok.user.displayName, 'Ada');
  });
});
