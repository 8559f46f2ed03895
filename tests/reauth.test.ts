// Re-authentication end to end (real handlers, local gateway, DynamoDB Local): DELETE /api/users/me
// and PATCH /api/users/me {"discoverable": true} take a fresh proof in the body (the password, or a
// `reauth` code for a passwordless account), counted against the per-account login limit, which
// this file keeps at its production value (5 per 5 minutes). A stolen access token alone can do
// neither. (Adding an email or phone has no route yet.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rateLimitNames } from '../contract/route.ts';
import type { Runtime } from '../local/runtime.ts';
import { bearer, lastCode, logIn, me, outbox, refreshWith, requestCode, signUp, type Account } from './support/identity.ts';
import { request, startTestRuntime } from './support/runtime.ts';

let rt: Runtime;

before(async () => {
  const generous = Object.fromEntries(rateLimitNames.map((k) => [k, { limit: 10_000, windowSeconds: 60 }]));
  rt = await startTestRuntime({ RATE_LIMITS: JSON.stringify({ ...generous, loginAccount: { limit: 5, windowSeconds: 300 } }) });
});
after(async () => rt?.stop());

const deleteMe = (a: Pick<Account, 'accessToken'>, body?: unknown, raw?: string) =>
  request(rt.httpUrl, 'DELETE', '/api/users/me', {
    headers: { ...bearer(a.accessToken), ...(raw !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body } : {}),
    ...(raw !== undefined ? { raw } : {}),
  });
const patchMe = (a: Pick<Account, 'accessToken'>, body: unknown) => request(rt.httpUrl, 'PATCH', '/api/users/me', { headers: bearer(a.accessToken), body });

describe('DELETE /api/users/me takes a fresh proof', () => {
  test('a stolen access token alone cannot delete the account: no proof, an empty or a double one is 400 and nothing is deleted', async () => {
    const a = await signUp(rt);
    const cases: [string, unknown, string | undefined, string][] = [
      ['no body', undefined, undefined, 'validation_failed'],
      ['a blank JSON body', undefined, ' ', 'invalid_json'],
      ['empty object', {}, undefined, 'validation_failed'],
      ['both proofs', { password: a.password, code: '123456' }, undefined, 'validation_failed'],
      ['another field', { password: a.password, userId: a.userId }, undefined, 'validation_failed'],
    ];
    for (const [name, body, raw, code] of cases) {
      const res = await deleteMe(a, body, raw);
      assert.equal(res.status, 400, `${name}: ${res.text}`);
      assert.equal(res.json.error.code, code, name);
    }
    assert.equal((await me(rt, a.accessToken)).status, 200, 'still there');
  });

  test('a wrong password is 403, counted like a login: the sixth attempt is 429 even with the right one; later the right one deletes', async () => {
    const a = await signUp(rt);
    for (let i = 0; i < 5; i++) {
      const res = await deleteMe(a, { password: `wrong-password-${i}` });
      assert.equal(res.status, 403, res.text);
      assert.equal(res.json.error.code, 'invalid_password');
    }
    const limited = await deleteMe(a, { password: a.password });
    assert.equal(limited.status, 429, limited.text);
    assert.equal(limited.json.error.details.limited, 'login attempts for this account');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 330, `Retry-After ${retryAfter}`);
    assert.equal((await logIn(rt, a.email, a.password)).status, 429, 'the same counter as login');
    assert.equal((await me(rt, a.accessToken)).status, 200, 'still there');

    rt.clock.advance(retryAfter * 1000);
    const done = await deleteMe(a, { password: a.password });
    assert.equal(done.status, 204, done.text);
    assert.equal((await me(rt, a.accessToken)).status, 401);
    assert.equal((await refreshWith(rt, a.refreshToken)).status, 401);
  });

  test('a passwordless account deletes with a reauth code; a wrong code is 401 invalid_code; a password account gets no reauth code', async () => {
    const p = await signUp(rt, { passwordless: true });
    const withPassword = await signUp(rt);
    assert.equal((await requestCode(rt, withPassword.email, 'reauth')).status, 202);
    assert.equal((await requestCode(rt, p.email, 'reauth')).status, 202);
    const lines = await outbox(rt);
    assert.ok(!lines.some((l) => l.destination === withPassword.email && l.purpose === 'reauth'), 'no reauth code for a password account');
    const code = await lastCode(rt, p.email, 'reauth');

    const wrong = await deleteMe(p, { code: code === '000000' ? '000001' : '000000' });
    assert.equal(wrong.status, 401, wrong.text);
    assert.equal(wrong.json.error.code, 'invalid_code');
    const password = await deleteMe(p, { password: 'some-password-1' });
    assert.equal(password.status, 400);
    assert.equal(password.json.error.code, 'code_required');
    assert.equal((await deleteMe(withPassword, { code })).json.error.code, 'password_required');
    assert.equal((await me(rt, p.accessToken)).status, 200, 'still there');

    assert.equal((await deleteMe(p, { code })).status, 204);
    assert.equal((await me(rt, p.accessToken)).status, 401);
  });
});

describe('PATCH /api/users/me takes a fresh proof to turn discovery on', () => {
  test('without a proof or with a wrong one it stays off; with the password it is on; off and renames need none', async () => {
    const a = await signUp(rt);
    const bare = await patchMe(a, { discoverable: true });
    assert.equal(bare.status, 400, bare.text);
    assert.deepEqual(bare.json.error.details, [{ path: 'body.password', message: 'Send the account password', code: 'required' }]);
    const wrong = await patchMe(a, { discoverable: true, password: 'not-the-password' });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.json.error.code, 'invalid_password');
    assert.equal((await patchMe(a, { discoverable: true, password: a.password, code: '123456' })).status, 400, 'not both');
    assert.equal((await me(rt, a.accessToken)).json.user.discoverable, false, 'still off');

    const on = await patchMe(a, { discoverable: true, password: a.password });
    assert.equal(on.status, 200, on.text);
    assert.equal(on.json.user.discoverable, true);
    const off = await patchMe(a, { discoverable: false });
    assert.equal(off.status, 200);
    assert.equal(off.json.user.discoverable, false);
    assert.equal((await patchMe(a, { displayName: 'Renamed Freely' })).json.user.displayName, 'Renamed Freely');
  });

  test('a passwordless account turns it on with a reauth code', async () => {
    const p = await signUp(rt, { passwordless: true });
    assert.equal((await requestCode(rt, p.email, 'reauth')).status, 202);
    const on = await patchMe(p, { discoverable: true, code: await lastCode(rt, p.email, 'reauth') });
    assert.equal(on.status, 200, on.text);
    assert.equal(on.json.user.discoverable, true);
  });
});
