// Identity end to end through the local gateway and DynamoDB Local: registration with OTP, login,
// refresh rotation and reuse detection, token forgeries, revocation, OTP rules, enumeration.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SignJWT, base64url } from 'jose';
import type { Runtime } from '../local/runtime.ts';
import { deriveKeys } from '../functions/core/signing-keys.ts';
import { projectRoot } from '../local/lambda.ts';
import { request, startTestRuntime } from './support/runtime.ts';
import { captureOutput } from './support/capture.ts';
import { bearer, lastCode, logIn, me, outbox, refreshWith, requestCode, signUp, uniqueEmail } from './support/identity.ts';

let rt: Runtime;
let doc: Runtime['db']['doc'];

before(async () => {
  rt = await startTestRuntime();
  doc = rt.db.doc;
});
after(async () => rt?.stop());

const scanAll = async (envVar: string) => (await doc.send(new ScanCommand({ TableName: process.env[envVar] }))).Items ?? [];

describe('the full flow', () => {
  test('register with an OTP from the outbox → login → me → refresh → reuse of the old token revokes the family', async () => {
    const email = uniqueEmail('flow');
    const otp = await requestCode(rt, email, 'register');
    assert.equal(otp.status, 202);
    assert.equal(otp.json.expiresIn, 300);
    assert.ok(Date.parse(otp.json.expiresAt) > Date.now());
    const line = (await outbox(rt)).findLast((l) => l.destination === email)!;
    assert.deepEqual([line.channel, line.purpose], ['email', 'register']);
    assert.match(line.code, /^\d{6}$/);
    assert.ok(!Number.isNaN(Date.parse(line.sentAt)));

    const reg = await request(rt.httpUrl, 'POST', '/api/auth/register', {
      body: { email: email.toUpperCase(), displayName: '  Ada Lovelace ', password: 'analytical-engine-1843', code: line.code },
    });
    assert.equal(reg.status, 201, reg.text);
    assert.deepEqual(Object.keys(reg.json).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'user']);
    assert.equal(reg.json.user.email, email, 'emails are stored lower-cased');
    assert.equal(reg.json.user.displayName, 'Ada Lovelace');
    assert.equal(reg.json.expiresIn, 900);
    const cookie = reg.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^__Secure-nexchat-refresh=[^;]+; Max-Age=\d+; Path=\/api\/auth; HttpOnly; Secure; SameSite=Strict$/);

    const login = await logIn(rt, email, 'analytical-engine-1843');
    assert.equal(login.status, 200, login.text);
    const profile = await me(rt, login.json.accessToken);
    assert.equal(profile.status, 200);
    assert.equal(profile.json.user.userId, reg.json.user.userId);
    assert.equal(profile.json.user.hasPassword, true);

    const first = login.json.refreshToken;
    const rotated = await refreshWith(rt, first);
    assert.equal(rotated.status, 200, rotated.text);
    assert.notEqual(rotated.json.refreshToken, first);
    assert.equal((await me(rt, rotated.json.accessToken)).status, 200);

    const reuse = await refreshWith(rt, first);
    assert.equal(reuse.status, 401);
    assert.equal(reuse.json.error.code, 'refresh_token_reused');
    // the whole family is dead: the rotated refresh token and its access token too
    assert.equal((await refreshWith(rt, rotated.json.refreshToken)).status, 401);
    assert.equal((await me(rt, rotated.json.accessToken)).status, 401);
    // other sessions of the same user are untouched
    assert.equal((await me(rt, reg.json.accessToken)).status, 200);
  });

  test('the refresh cookie alone refreshes, as a browser would', async () => {
    const a = await signUp(rt);
    const res = await request(rt.httpUrl, 'POST', '/api/auth/refresh', { headers: { cookie: `theme=dark; __Secure-nexchat-refresh=${a.refreshToken}` } });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('set-cookie') ?? '', /__Secure-nexchat-refresh=/);
    const none = await request(rt.httpUrl, 'POST', '/api/auth/refresh');
    assert.equal(none.status, 401);
    assert.equal(none.json.error.code, 'missing_refresh_token');
  });

  test('16 concurrent refreshes with one token yield at most one new pair', async () => {
    const a = await signUp(rt);
    const results = await Promise.all(Array.from({ length: 16 }, () => refreshWith(rt, a.refreshToken)));
    const ok = results.filter((r) => r.status === 200);
    assert.ok(ok.length <= 1, `${ok.length} pairs issued`);
    assert.ok(
      results.every((r) => r.status === 200 || r.status === 401),
      results.map((r) => r.status).join(),
    );
    for (const r of ok) assert.equal((await refreshWith(rt, r.json.refreshToken)).status, 401, 'the race counted as reuse');
  });

  test('stored OTPs and refresh tokens are only hashes', async () => {
    const a = await signUp(rt);
    const code = await lastCode(rt, a.email, 'register');
    const eph = JSON.stringify(await scanAll('EPHEMERAL_TABLE'));
    const sessions = JSON.stringify(await scanAll('SESSIONS_TABLE'));
    const users = JSON.stringify(await scanAll('USERS_TABLE'));
    assert.ok(!eph.includes(`"${code}"`), 'no OTP code in clear');
    assert.ok(!sessions.includes(a.refreshToken) && !sessions.includes(a.refreshToken.split('.')[2]!), 'no refresh token in clear');
    assert.ok(!users.includes(a.password), 'no password in clear');
    assert.match(users, /"passwordHash":"scrypt\$/);
  });
});

describe('OTP rules', () => {
  async function otpLogin(email: string, code: string) {
    return request(rt.httpUrl, 'POST', '/api/auth/login', { body: { email, code } });
  }

  test('16 concurrent submissions of one valid code yield exactly one success', async () => {
    const a = await signUp(rt, { passwordless: true });
    assert.equal((await requestCode(rt, a.email, 'login')).status, 202);
    const code = await lastCode(rt, a.email, 'login');
    const results = await Promise.all(Array.from({ length: 16 }, () => otpLogin(a.email, code)));
    assert.equal(results.filter((r) => r.status === 200).length, 1, results.map((r) => r.status).join());
    assert.ok(results.every((r) => r.status === 200 || r.json.error.code === 'invalid_code'));
  });

  test('five wrong codes kill the challenge: the right code then fails', async () => {
    const a = await signUp(rt, { passwordless: true });
    await requestCode(rt, a.email, 'login');
    const code = await lastCode(rt, a.email, 'login');
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) assert.equal((await otpLogin(a.email, wrong)).status, 401);
    const res = await otpLogin(a.email, code);
    assert.equal(res.status, 401);
    assert.equal(res.json.error.code, 'invalid_code');
  });

  test('four wrong codes still leave the right one working', async () => {
    const a = await signUp(rt, { passwordless: true });
    await requestCode(rt, a.email, 'login');
    const code = await lastCode(rt, a.email, 'login');
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i++) assert.equal((await otpLogin(a.email, wrong)).status, 401);
    assert.equal((await otpLogin(a.email, code)).status, 200);
  });

  test('an expired code fails, checked in code and not left to TTL', async () => {
    const a = await signUp(rt, { passwordless: true });
    await requestCode(rt, a.email, 'login');
    const code = await lastCode(rt, a.email, 'login');
    // time passes beyond the code's 5 minutes; the TTL attribute has not removed it (best-effort)
    rt.clock.advance(301_000);
    const res = await otpLogin(a.email, code);
    assert.equal(res.status, 401);
    assert.equal(res.json.error.code, 'invalid_code');
  });

  test('a code is bound to its purpose and destination', async () => {
    const email = uniqueEmail('bound');
    await requestCode(rt, email, 'register');
    const code = await lastCode(rt, email, 'register');
    const other = uniqueEmail('other');
    const elsewhere = await request(rt.httpUrl, 'POST', '/api/auth/register', { body: { email: other, displayName: 'Eve', code } });
    assert.equal(elsewhere.status, 401, 'another destination');
    const a = await signUp(rt, { passwordless: true });
    await requestCode(rt, a.email, 'login');
    const loginCode = await lastCode(rt, a.email, 'login');
    const asRegister = await request(rt.httpUrl, 'POST', '/api/auth/register', { body: { email: a.email, displayName: 'Eve', code: loginCode } });
    assert.equal(asRegister.status, 401, 'another purpose');
    // the original code still works for its own purpose and destination
    const ok = await request(rt.httpUrl, 'POST', '/api/auth/register', { body: { email, displayName: 'Bob', code } });
    assert.equal(ok.status, 201, ok.text);
  });

  test('a code never replaces the password of a password account', async () => {
    const a = await signUp(rt);
    const sent = (await outbox(rt)).length;
    assert.equal((await requestCode(rt, a.email, 'login')).status, 202, 'the same answer as for anyone');
    assert.equal((await outbox(rt)).length, sent, 'but no login code goes to a password account');
    const items = (await scanAll('EPHEMERAL_TABLE')).filter((i) => String(i.pk).startsWith('OTP#login#email#'));
    assert.ok(items.length > 0);
    // even a valid login code (forced here by hand) does not open a password account
    const keys = deriveKeys(JSON.parse(readFileSync(process.env.NEXCHAT_DEV_SECRETS_FILE!, 'utf8')));
    const { codeDigest, destinationKey } = await import('../functions/core/otp.ts');
    const pk = `OTP#login#email#${destinationKey(keys.current.otpPepper, 'email', a.email)}`;
    await doc.send(
      new UpdateCommand({
        TableName: process.env.EPHEMERAL_TABLE,
        Key: { pk, sk: 'CHALLENGE' },
        UpdateExpression: 'SET digest = :d',
        ExpressionAttributeValues: { ':d': codeDigest(keys.current.otpPepper, 'login', 'email', a.email, '424242') },
      }),
    );
    const res = await request(rt.httpUrl, 'POST', '/api/auth/login', { body: { email: a.email, code: '424242' } });
    assert.equal(res.status, 401);
    assert.equal(res.json.error.code, 'invalid_code', 'answered like a wrong code');
  });

  test('registration needs a code by default; passwordless accounts log in by OTP', async () => {
    const email = uniqueEmail('nocode');
    const res = await request(rt.httpUrl, 'POST', '/api/auth/register', { body: { email, displayName: 'No Code' } });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.details[0].path, 'body.code');
    await requestCode(rt, email, 'register');
    const reg = await request(rt.httpUrl, 'POST', '/api/auth/register', {
      body: { email, displayName: 'No Password', code: await lastCode(rt, email, 'register') },
    });
    assert.equal(reg.status, 201);
    assert.equal(reg.json.user.hasPassword, false);
    assert.equal((await logIn(rt, email, 'anything-at-all')).status, 401, 'no password to log in with');
    await requestCode(rt, email, 'login');
    assert.equal((await otpLogin(email, await lastCode(rt, email, 'login'))).status, 200);
  });

  test('phone numbers work as identifiers over SMS', async () => {
    const phone = `+1415${String(Date.now()).slice(-7)}`;
    const otp = await requestCode(rt, phone, 'register', 'sms');
    assert.equal(otp.status, 202);
    assert.equal((await outbox(rt)).findLast((l) => l.destination === phone)?.channel, 'sms');
    const reg = await request(rt.httpUrl, 'POST', '/api/auth/register', {
      body: { phone, displayName: 'Phone User', code: await lastCode(rt, phone, 'register') },
    });
    assert.equal(reg.status, 201, reg.text);
    assert.equal(reg.json.user.phone, phone);
    const bad = await requestCode(rt, '0151 1234567', 'register', 'sms');
    assert.equal(bad.status, 400);
    const mismatch = await requestCode(rt, 'someone@example.test', 'register', 'sms');
    assert.equal(mismatch.status, 400);
  });
});

describe('passwords', () => {
  test('common passwords and bad lengths are refused; passwords are compared exactly', async () => {
    const email = uniqueEmail('pw');
    await requestCode(rt, email, 'register');
    const code = await lastCode(rt, email, 'register');
    for (const [password, path] of [
      ['password123', 'body.password'],
      ['short', 'body.password'],
      ['x'.repeat(129), 'body.password'],
    ]) {
      const res = await request(rt.httpUrl, 'POST', '/api/auth/register', { body: { email, displayName: 'Pat', password, code } });
      assert.equal(res.status, 400, password);
      assert.equal(res.json.error.details[0].path, path);
    }
    const reg = await request(rt.httpUrl, 'POST', '/api/auth/register', { body: { email, displayName: 'Pat', password: ' Spaces Count Too ', code } });
    assert.equal(reg.status, 201, 'the code survived the refused attempts');
    assert.equal((await logIn(rt, email, 'Spaces Count Too')).status, 401);
    assert.equal((await logIn(rt, email, ' spaces count too ')).status, 401);
    assert.equal((await logIn(rt, email, ' Spaces Count Too ')).status, 200);
  });

  test('a forgotten password is reset with a reset code; every session ends; unknown accounts fail like a wrong code', async () => {
    const a = await signUp(rt);
    const other = await logIn(rt, a.email, a.password);
    const sent = (await outbox(rt)).length;
    assert.equal((await requestCode(rt, a.email, 'reset')).status, 202);
    const code = await lastCode(rt, a.email, 'reset');
    assert.equal((await outbox(rt)).length, sent + 1);
    const common = await request(rt.httpUrl, 'POST', '/api/auth/password/reset', { body: { email: a.email, code, newPassword: 'password123' } });
    assert.equal(common.status, 400, 'a common password is refused before the code is used');
    const res = await request(rt.httpUrl, 'POST', '/api/auth/password/reset', { body: { email: a.email, code, newPassword: 'remembered-at-last-5' } });
    assert.equal(res.status, 204, res.text);
    assert.equal((await me(rt, a.accessToken)).status, 401);
    assert.equal((await refreshWith(rt, other.json.refreshToken)).status, 401);
    assert.equal((await logIn(rt, a.email, a.password)).status, 401);
    assert.equal((await logIn(rt, a.email, 'remembered-at-last-5')).status, 200);
    assert.equal(
      (await request(rt.httpUrl, 'POST', '/api/auth/password/reset', { body: { email: a.email, code, newPassword: 'second-try-123456' } })).status,
      401,
      'single use',
    );
    const ghost = uniqueEmail('ghost');
    const ghostAsk = await requestCode(rt, ghost, 'reset');
    assert.equal(ghostAsk.status, 202);
    const ghostReset = await request(rt.httpUrl, 'POST', '/api/auth/password/reset', {
      body: { email: ghost, code: '123456', newPassword: 'whatever-it-is-1' },
    });
    assert.equal(ghostReset.status, 401);
    assert.equal(ghostReset.json.error.code, 'invalid_code');
  });

  test('changing the password revokes every other session at once, keeps this one', async () => {
    const a = await signUp(rt);
    const other = await logIn(rt, a.email, a.password);
    const wrong = await request(rt.httpUrl, 'POST', '/api/auth/password', {
      headers: bearer(a.accessToken),
      body: { currentPassword: 'nope-nope-nope', newPassword: 'brand-new-secret-77' },
    });
    assert.equal(wrong.status, 403);
    const res = await request(rt.httpUrl, 'POST', '/api/auth/password', {
      headers: bearer(a.accessToken),
      body: { currentPassword: a.password, newPassword: 'brand-new-secret-77' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal((await me(rt, other.json.accessToken)).status, 401, 'other access token dead');
    assert.equal((await refreshWith(rt, other.json.refreshToken)).status, 401, 'other refresh token dead');
    assert.equal((await me(rt, a.accessToken)).status, 200, 'this session lives');
    assert.equal((await logIn(rt, a.email, a.password)).status, 401);
    assert.equal((await logIn(rt, a.email, 'brand-new-secret-77')).status, 200);
  });
});

describe('token forgeries and revocation', () => {
  async function forge(claims: Record<string, unknown>, header: Record<string, unknown>, key: 'accessKey' | 'refreshKey' = 'accessKey', omitExp = false) {
    const secret = JSON.parse(readFileSync(process.env.NEXCHAT_DEV_SECRETS_FILE!, 'utf8'));
    const keys = deriveKeys(secret);
    const now = Math.floor(Date.now() / 1000);
    let jwt = new SignJWT({ sid: claims.sid, role: 'user', ...claims })
      .setProtectedHeader({ alg: 'HS256', kid: keys.current.kid, typ: 'at+jwt', ...header } as never)
      .setIssuer(String(claims.iss ?? process.env.JWT_ISSUER ?? 'https://nexchat/test'))
      .setAudience(String(claims.aud ?? 'nexchat-api'))
      .setSubject(String(claims.sub))
      .setIssuedAt(now)
      .setJti('forged');
    if (!omitExp) jwt = jwt.setExpirationTime(Number(claims.exp ?? now + 600));
    return jwt.sign(keys.current[key]);
  }

  test('alg none, a flipped signature bit, wrong aud / iss / typ, no exp, expired, refresh-as-access: all 401', async () => {
    const a = await signUp(rt);
    const [, payloadPart] = a.accessToken.split('.');
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payloadPart!)));
    const base = { sub: claims.sub, sid: claims.sid };
    assert.equal((await me(rt, await forge(base, {}))).status, 200, 'the forging harness itself makes valid tokens');

    const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${payloadPart}.`;
    const parts = a.accessToken.split('.');
    const sig = Buffer.from(parts[2]!, 'base64url');
    sig[0]! ^= 1;
    const flipped = `${parts[0]}.${parts[1]}.${sig.toString('base64url')}`;
    const cases: [string, string][] = [
      ['alg none', none],
      ['flipped signature bit', flipped],
      ['wrong audience', await forge({ ...base, aud: 'someone-else' }, {})],
      ['wrong issuer', await forge({ ...base, iss: 'https://evil.example' }, {})],
      ['wrong typ', await forge(base, { typ: 'JWT' })],
      ['missing exp', await forge(base, {}, 'accessKey', true)],
      ['expired', await forge({ ...base, exp: Math.floor(Date.now() / 1000) - 60 }, {})],
      ['refresh token as access token', a.refreshToken],
      ['signed with the refresh key', await forge(base, {}, 'refreshKey')],
      ['unknown kid', await forge(base, { kid: 'other' })],
      ['garbage', 'not.a.jwt'],
    ];
    for (const [name, token] of cases) {
      const res = await me(rt, token);
      assert.equal(res.status, 401, name);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer', name);
    }
    assert.equal((await me(rt, '')).status, 401);
    assert.equal((await request(rt.httpUrl, 'GET', '/api/users/me')).status, 401);
    // an access token is not a refresh token either
    assert.equal((await refreshWith(rt, a.accessToken)).status, 401);
  });

  test('logout kills this session at once; other sessions live', async () => {
    const a = await signUp(rt);
    const second = await logIn(rt, a.email, a.password);
    const res = await request(rt.httpUrl, 'POST', '/api/auth/logout', { headers: bearer(a.accessToken) });
    assert.equal(res.status, 204);
    assert.match(res.headers.get('set-cookie') ?? '', /Max-Age=0/);
    assert.equal((await me(rt, a.accessToken)).status, 401);
    assert.equal((await refreshWith(rt, a.refreshToken)).status, 401);
    assert.equal((await me(rt, second.json.accessToken)).status, 200);
  });

  test('logout-all kills every session at once', async () => {
    const a = await signUp(rt);
    const second = await logIn(rt, a.email, a.password);
    const res = await request(rt.httpUrl, 'POST', '/api/auth/logout-all', { headers: bearer(second.json.accessToken) });
    assert.equal(res.status, 204);
    for (const t of [a.accessToken, second.json.accessToken]) assert.equal((await me(rt, t)).status, 401);
    for (const t of [a.refreshToken, second.json.refreshToken]) assert.equal((await refreshWith(rt, t)).status, 401);
    const again = await logIn(rt, a.email, a.password);
    assert.equal((await me(rt, again.json.accessToken)).status, 200, 'signing in afterwards works');
  });

  test('PATCH and DELETE /api/users/me act on the caller only, and deletion kills its tokens', async () => {
    const a = await signUp(rt);
    const b = await signUp(rt);
    const patch = await request(rt.httpUrl, 'PATCH', '/api/users/me', { headers: bearer(a.accessToken), body: { displayName: 'Renamed' } });
    assert.equal(patch.status, 200);
    assert.equal(patch.json.user.displayName, 'Renamed');
    const sneaky = await request(rt.httpUrl, 'PATCH', '/api/users/me', { headers: bearer(a.accessToken), body: { displayName: 'X', userId: b.userId } });
    assert.equal(sneaky.status, 400, 'no way to name another user');
    assert.equal((await me(rt, b.accessToken)).json.user.displayName, 'Test User');
    const del = await request(rt.httpUrl, 'DELETE', '/api/users/me', { headers: bearer(a.accessToken), body: { password: a.password } });
    assert.equal(del.status, 204);
    assert.equal((await me(rt, a.accessToken)).status, 401);
    assert.equal((await refreshWith(rt, a.refreshToken)).status, 401);
    assert.equal((await logIn(rt, a.email, a.password)).status, 401);
    assert.equal((await me(rt, b.accessToken)).status, 200);
    // the address is free again
    const again = await signUp(rt, { email: a.email });
    assert.notEqual(again.userId, a.userId);
  });
});

describe('display names', () => {
  const patchName = (token: string, displayName: string) => request(rt.httpUrl, 'PATCH', '/api/users/me', { headers: bearer(token), body: { displayName } });

  function grant(email: string, role: string) {
    const out = spawnSync(process.execPath, [join(projectRoot, 'bin', 'admin.ts'), 'grant', '--email', email, '--role', role, '--data-dir', rt.dataDir], {
      encoding: 'utf8',
    });
    assert.equal(out.status, 0, out.stderr);
  }

  test('invisible, bidi, control and unassigned characters are refused with field detail, and nothing changes', async () => {
    const a = await signUp(rt, { displayName: 'Ada Lovelace' });
    for (const name of ['Adm\u200bin', 'Ada\u202Eexe.txt', 'Ada\u0000', 'Ada\u0007', 'Ada\u0378', 'Ada\u2066x\u2069']) {
      const res = await patchName(a.accessToken, name);
      assert.equal(res.status, 400, JSON.stringify(name));
      assert.equal(res.json.error.code, 'validation_failed');
      assert.deepEqual(
        res.json.error.details.map((d: { path: string }) => d.path),
        ['body.displayName'],
      );
    }
    assert.equal((await me(rt, a.accessToken)).json.user.displayName, 'Ada Lovelace');
  });

  test('names that pass for staff are refused to users on registration and renaming; staff may take them', async () => {
    const email = uniqueEmail('staffy');
    await requestCode(rt, email, 'register');
    const code = await lastCode(rt, email, 'register');
    const reg = await request(rt.httpUrl, 'POST', '/api/auth/register', { body: { email, displayName: 'Adm1n', password: 'violet-otter-sings-42', code } });
    assert.equal(reg.status, 400);
    assert.deepEqual(
      reg.json.error.details.map((d: { path: string; code: string }) => [d.path, d.code]),
      [['body.displayName', 'display_name_reserved']],
    );
    const ok = await request(rt.httpUrl, 'POST', '/api/auth/register', { body: { email, displayName: 'Tess', password: 'violet-otter-sings-42', code } });
    assert.equal(ok.status, 201, 'the code was not spent by the refused attempt');

    const a = await signUp(rt, { displayName: 'Ada' });
    for (const name of ['Admin', 'ＡＤＭＩＮ', 'm0derat0r', 'NexChat Support', 'S y s t e m', '0fficial', 'аdmin']) {
      const res = await patchName(a.accessToken, name);
      assert.equal(res.status, 400, name);
      assert.equal(res.json.error.details[0].code, 'display_name_reserved', name);
    }
    assert.equal((await me(rt, a.accessToken)).json.user.displayName, 'Ada');

    const staff = await signUp(rt, { displayName: 'Sam' });
    grant(staff.email, 'moderator'); // the role is read from the database on every call
    const renamed = await patchName(staff.accessToken, 'NexChat Support');
    assert.equal(renamed.status, 200);
    assert.equal(renamed.json.user.displayName, 'NexChat Support');
  });

  test('NFKC forms are stored normalised; accents, other scripts and emoji are kept as written', async () => {
    const a = await signUp(rt, { displayName: 'Ｆｕｌｌ Ｗｉｄｔｈ' });
    assert.equal((await me(rt, a.accessToken)).json.user.displayName, 'Full Width');
    for (const name of ['José Müller', '李小龍', 'Ольга', '👩🏽‍💻 Dev', 'Ada 😀']) {
      const res = await patchName(a.accessToken, name);
      assert.equal(res.status, 200, name);
      assert.equal(res.json.user.displayName, name);
    }
  });
});

describe('no account enumeration', () => {
  const shape = (r: { status: number; json: any }) => ({ status: r.status, keys: Object.keys(r.json ?? {}).sort(), code: r.json?.error?.code });

  test('OTP requests answer alike for known and unknown destinations', async () => {
    const a = await signUp(rt);
    const unknown = uniqueEmail('ghost');
    for (const purpose of ['register', 'login']) {
      const known = await requestCode(rt, a.email, purpose);
      const ghost = await requestCode(rt, unknown, purpose);
      assert.deepEqual(shape(known), shape(ghost), purpose);
      assert.deepEqual([known.json.expiresIn, known.json.resendIn], [ghost.json.expiresIn, ghost.json.resendIn]);
    }
  });

  test('login and register answer alike for known and unknown identifiers', async () => {
    const a = await signUp(rt);
    const ghost = uniqueEmail('ghost');
    const pw = (email: string) => logIn(rt, email, 'wrong-password-123');
    const [k1, g1] = [await pw(a.email), await pw(ghost)];
    assert.deepEqual(shape(k1), shape(g1));
    assert.deepEqual(k1.json, g1.json);
    const code = (email: string) => request(rt.httpUrl, 'POST', '/api/auth/login', { body: { email, code: '123456' } });
    const [k2, g2] = [await code(a.email), await code(ghost)];
    assert.deepEqual(k2.json, g2.json);
    assert.equal(k2.status, g2.status);
    const reg = (email: string) => request(rt.httpUrl, 'POST', '/api/auth/register', { body: { email, displayName: 'Mallory', code: '123456' } });
    const [k3, g3] = [await reg(a.email), await reg(ghost)];
    assert.deepEqual(k3.json, g3.json);
    assert.equal(k3.status, g3.status);
  });

  test('a register code is only delivered to unregistered destinations, a login code only to accounts', async () => {
    const a = await signUp(rt);
    const before = (await outbox(rt)).length;
    await requestCode(rt, a.email, 'register');
    await requestCode(rt, uniqueEmail('ghost'), 'login');
    assert.equal((await outbox(rt)).length, before, 'nothing delivered');
  });
});

describe('logs', () => {
  test('a full flow logs no token, code or password', async () => {
    let a;
    let code = '';
    let rotated;
    const text = await captureOutput(async () => {
      a = await signUp(rt, { password: 'log-canary-password-9' });
      code = await lastCode(rt, a.email, 'register');
      rotated = await refreshWith(rt, a.refreshToken);
      await refreshWith(rt, a.refreshToken); // reuse: logged as a security event
      await logIn(rt, a.email, 'log-canary-password-9');
      await me(rt, a.accessToken);
    }, 'DEBUG');
    assert.match(text, /"refresh_token_reuse"/, 'the reuse event is logged');
    assert.match(text, /"route":"Register"/);
    for (const secret of [a!.accessToken, a!.refreshToken, rotated!.json.refreshToken, 'log-canary-password-9', code]) {
      assert.ok(!text.includes(secret), 'a secret reached the logs');
    }
  });
});
