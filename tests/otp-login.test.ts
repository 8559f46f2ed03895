// The deployment knob OTP_REQUIRED_FOR=login, end to end: login is two steps (credentials, then
// credentials + code). One runtime per file: handlers read their configuration at import.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Runtime } from '../local/runtime.ts';
import { request, startTestRuntime } from './support/runtime.ts';
import { lastCode, logIn, me, outbox, uniqueEmail } from './support/identity.ts';

describe('OTP mandatory at login', () => {
  let rt: Runtime;
  before(async () => {
    rt = await startTestRuntime({ OTP_REQUIRED_FOR: 'login' });
  });
  after(async () => rt?.stop());

  test('credentials → 202 and a code → credentials + code → tokens', async () => {
    const email = uniqueEmail('mfa');
    const reg = await request(rt.httpUrl, 'POST', '/api/auth/register', { body: { email, displayName: 'Two Step', password: 'two-steps-ahead-7' } });
    assert.equal(reg.status, 201, 'no code needed to register in this deployment');

    const sent = (await outbox(rt)).length;
    const wrong = await logIn(rt, email, 'not-the-password');
    assert.equal(wrong.status, 401);
    assert.equal((await outbox(rt)).length, sent, 'a wrong password sends no code');

    const step1 = await logIn(rt, email, 'two-steps-ahead-7');
    assert.equal(step1.status, 202, step1.text);
    assert.equal(step1.json.otpRequired, true);
    assert.equal(step1.json.channel, 'email');
    assert.equal(step1.json.accessToken, undefined, 'no tokens before the code');
    const code = await lastCode(rt, email, 'login');

    // the code alone is not enough: the password is the first factor, the code the second
    const codeOnly = await request(rt.httpUrl, 'POST', '/api/auth/login', { body: { email, code } });
    assert.equal(codeOnly.status, 401);
    assert.equal(codeOnly.json.error.code, 'invalid_code', 'answered like a wrong code');
    await logIn(rt, email, 'two-steps-ahead-7');
    const fresh = await lastCode(rt, email, 'login');
    assert.notEqual(fresh, undefined);
    const badCode = await request(rt.httpUrl, 'POST', '/api/auth/login', {
      body: { email, password: 'two-steps-ahead-7', code: fresh === '000000' ? '000001' : '000000' },
    });
    assert.equal(badCode.status, 401);
    const step2 = await request(rt.httpUrl, 'POST', '/api/auth/login', { body: { email, password: 'two-steps-ahead-7', code: fresh } });
    assert.equal(step2.status, 200, step2.text);
    assert.equal((await me(rt, step2.json.accessToken)).status, 200);
  });
});
