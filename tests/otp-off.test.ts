// The deployment knob OTP_REQUIRED_FOR=none, end to end: registration needs no code, and a taken
// address is a 409 (enumeration cannot be avoided there; see README).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Runtime } from '../local/runtime.ts';
import { request, startTestRuntime } from './support/runtime.ts';
import { uniqueEmail } from './support/identity.ts';

describe('OTP off for registration', () => {
  let rt: Runtime;
  before(async () => {
    rt = await startTestRuntime({ OTP_REQUIRED_FOR: 'none' });
  });
  after(async () => rt?.stop());

  test('register needs no code; a taken address is a 409', async () => {
    const email = uniqueEmail('open');
    const first = await request(rt.httpUrl, 'POST', '/api/auth/register', { body: { email, displayName: 'Open Door', password: 'open-door-policy-1' } });
    assert.equal(first.status, 201);
    const again = await request(rt.httpUrl, 'POST', '/api/auth/register', { body: { email, displayName: 'Copycat', password: 'open-door-policy-2' } });
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, 'identifier_taken');
    const raced = uniqueEmail('race');
    const concurrent = await Promise.all(
      Array.from({ length: 8 }, (_, i) => request(rt.httpUrl, 'POST', '/api/auth/register', { body: { email: raced, displayName: `Racer ${i}`, password: 'race-condition-9' } })),
    );
    assert.equal(concurrent.filter((r) => r.status === 201).length, 1, concurrent.map((r) => r.status).join());
    assert.equal(concurrent.filter((r) => r.status === 409).length, 7);
  });
});
