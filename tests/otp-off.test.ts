// The deployment knob OTP_REQUIRED_FOR=none, end to end: registration needs no code, and a taken
// address is a 409 (enumeration cannot be avoided there; see README).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { captureOutput } from './support/capture.ts';
import type { Runtime } from '../local/runtime.ts';
import { request, startTestRuntime } from './support/runtime.ts';
import { uniqueEmail } from './support/identity.ts';

describe('OTP off for registration', () => {
  let rt: Runtime;
  before(async () => {
    // the outbox path is a directory: every delivery fails, as an SES outage would
    rt = await startTestRuntime({ OTP_REQUIRED_FOR: 'none', NEXCHAT_OUTBOX_FILE: tmpdir() });
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
      Array.from({ length: 8 }, (_, i) =>
        request(rt.httpUrl, 'POST', '/api/auth/register', { body: { email: raced, displayName: `Racer ${i}`, password: 'race-condition-9' } }),
      ),
    );
    assert.equal(concurrent.filter((r) => r.status === 201).length, 1, concurrent.map((r) => r.status).join());
    assert.equal(concurrent.filter((r) => r.status === 409).length, 7);
  });

  test('a failed OTP delivery answers exactly like any other request; the queue retries it, then dead-letters it; no log holds the code', async () => {
    let known: any;
    let unknown: any;
    const email = uniqueEmail('undeliverable');
    const deadBefore = rt.queues.otp.deadLetters.length;
    const logs = await captureOutput(async () => {
      known = await request(rt.httpUrl, 'POST', '/api/auth/otp/request', { body: { channel: 'email', destination: email, purpose: 'register' } });
      await request(rt.httpUrl, 'POST', '/api/auth/register', { body: { email, displayName: 'Taken', password: 'taken-address-1' } });
      unknown = await request(rt.httpUrl, 'POST', '/api/auth/otp/request', { body: { channel: 'email', destination: email, purpose: 'register' } });
      await rt.queues.otp.drained();
    }, 'INFO');
    assert.equal(known.status, 202);
    assert.equal(unknown.status, 202);
    assert.deepEqual(Object.keys(known.json).sort(), Object.keys(unknown.json).sort());
    // the one deliverable code (the address was free then) was tried 3 times and dead-lettered
    const dead = rt.queues.otp.deadLetters.slice(deadBefore);
    assert.deepEqual(
      dead.map((d) => d.receiveCount),
      [3],
    );
    assert.equal(logs.match(/"otp_delivery_failed"/g)?.length, 3, 'each attempt is logged');
    assert.match(readFileSync(join(rt.dataDir, 'otp-dead-letters.jsonl'), 'utf8'), new RegExp(dead[0]!.messageId));
    assert.doesNotMatch(logs, /"code":"\d{6}"/, 'no code in any log line');
    assert.doesNotMatch(logs, new RegExp(email.replace(/[.+]/g, '\\$&')), 'no destination in any log line');
  });
});
