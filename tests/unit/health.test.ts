// The health check over an injected probe: "ok" when the data store answers, "degraded" (never an
// error) when it fails or does not answer within the configured timeout; the time is the clock's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkHealth } from '#core/health.ts';
import { fakeWorld, healthDeps } from '../support/fakes.ts';

test('a store that answers is ok, with the stage and the clock’s time', async () => {
  const w = fakeWorld({ env: { NEXCHAT_STAGE: 'unit' } });
  const report = await checkHealth(healthDeps(w));
  assert.deepEqual([report.status, report.stage, report.time, report.dynamodb.reachable], ['ok', 'unit', new Date(w.clock.now()).toISOString(), true]);
  assert.ok(report.dynamodb.latencyMs >= 0);
});

test('a store that fails is degraded, not an error', async () => {
  const w = fakeWorld();
  w.health.mode = 'fail';
  const report = await checkHealth(healthDeps(w));
  assert.deepEqual([report.status, report.dynamodb.reachable], ['degraded', false]);
});

test('a store that does not answer is degraded after the configured timeout', async () => {
  const w = fakeWorld({ env: { HEALTH_TIMEOUT_MS: '30' } });
  w.health.mode = 'hang';
  const started = performance.now();
  const report = await checkHealth(healthDeps(w));
  const waited = performance.now() - started;
  assert.deepEqual([report.status, report.dynamodb.reachable], ['degraded', false]);
  assert.ok(waited >= 25 && waited < 1000, `waited ${waited} ms`);
});
