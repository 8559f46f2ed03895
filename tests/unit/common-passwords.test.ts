// The bundled common-password set against the list it was built from: no listed password gets
// through in any case, few others are refused, and the committed data matches the generator.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dictionary } from '@zxcvbn-ts/language-common';
import { loadConfig } from '#core/config.ts';
import { commonPasswordSet } from '#core/common-passwords.data.ts';
import { isCommonPassword } from '#core/passwords.ts';
import { buildCommonPasswordSet, listedKeys, randomPassword, seededRandom } from '../../bin/build-password-filter.ts';

const listed = listedKeys(dictionary['passwords-common']);

test('the set covers every password length the schema accepts', () => {
  assert.ok(commonPasswordSet.minLength <= loadConfig({}).password.minLength);
  assert.ok(listed.length > 10_000, `only ${listed.length} listed passwords: the checks below would prove little`);
});

test('every listed password of 8 or more characters is refused, in lower, upper and title case', () => {
  const missed = listed.filter((p) => !isCommonPassword(p) || !isCommonPassword(p.toUpperCase()) || !isCommonPassword(p[0]!.toUpperCase() + p.slice(1)));
  assert.equal(missed.length, 0, `missed ${missed.length}, such as ${missed.slice(0, 5).join(', ')}`);
});

test('random 12-character passwords are refused at no more than the documented rate', () => {
  const random = seededRandom(42);
  const samples = 200_000;
  let refused = 0;
  for (let i = 0; i < samples; i++) if (isCommonPassword(randomPassword(random, 12))) refused++;
  const rate = refused / samples;
  assert.ok(rate < commonPasswordSet.falsePositiveBound, `false-positive rate ${rate}`);
  assert.ok(rate > 0, 'a set that refuses nothing is not being consulted'); // ~600 expected
});

test('shorter passwords, the empty one included, answer without throwing', () => {
  for (const p of ['', 'a', 'passwor', 'ÉÉÉ']) assert.equal(isCommonPassword(p), false);
  assert.equal(isCommonPassword('violet-otter-sings-42'), false);
});

test('the committed data file and its description are what the generator builds from the installed list', () => {
  const built = buildCommonPasswordSet(dictionary['passwords-common']);
  const { data, ...params } = built;
  const { file, sha256, ...described } = commonPasswordSet;
  assert.deepEqual(params, described, 'stale: run `node bin/build-password-filter.ts`');
  const bytes = readFileSync(new URL(`../../functions/core/${file}`, import.meta.url));
  assert.ok(bytes.equals(Buffer.from(data, 'base64')), `${file} is stale: run \`node bin/build-password-filter.ts\``);
  assert.equal(createHash('sha256').update(bytes).digest('hex'), sha256);
});
