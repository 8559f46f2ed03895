// The bundles as they ship, run for real: two route Lambdas are bundled with lib/bundling.ts (so with
// the env-only credentials, the event-stream stub and the small LRU swapped in) and called in a
// fresh Node process with nothing but Lambda-style environment variables. The health route signs and
// sends a DynamoDB request to DynamoDB Local; $default answers a ping through the real
// @connections client to a socket open on the local gateway. If an alias broke the SDK, this fails.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build } from 'esbuild';
import { esbuildOptions } from '../lib/bundling.ts';
import type { Runtime } from '../local/runtime.ts';
import { connectAs, signUp } from './support/identity.ts';
import { startTestRuntime, type TestSocket } from './support/runtime.ts';

const PROJECT_ROOT = join(import.meta.dirname, '..');
let rt: Runtime;
let dir: string;
let socket: TestSocket;

before(async () => {
  rt = await startTestRuntime();
  dir = mkdtempSync(join(tmpdir(), 'nexchat-bundled-'));
  await build({
    ...esbuildOptions,
    absWorkingDir: PROJECT_ROOT,
    entryPoints: { health: 'functions/http/system/get-health.ts', ping: 'functions/ws/default.ts' },
    outdir: dir,
    logLevel: 'silent',
  });
  socket = await connectAs(rt, (await signUp(rt)).accessToken);
});
after(async () => {
  await socket?.close();
  await rt?.stop();
});

/**
 * Runs `script` (ESM) in a fresh process with only what a Lambda would have in its environment.
 * Asynchronously: the local gateway that answers its @connections calls lives in this process.
 */
async function runInLambdaLikeProcess(script: string): Promise<unknown> {
  const file = join(dir, `run-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, script);
  const out = await promisify(execFile)(process.execPath, ['--enable-source-maps', file], {
    encoding: 'utf8',
    timeout: 20_000,
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_SESSION_TOKEN: 'local-session',
      NEXCHAT_STAGE: 'bundled',
      LOG_LEVEL: 'SILENT',
      DYNAMODB_ENDPOINT: rt.dynamoEndpoint,
      EPHEMERAL_TABLE: rt.db.table('ephemeral'),
      WS_CALLBACK_URL: rt.wsUrl.replace('ws://', 'http://'),
    },
  });
  return JSON.parse(out.stdout.trim().split('\n').at(-1)!);
}

describe('bundled Lambdas call AWS services with the bundle-only stand-ins', () => {
  test('the health bundle reaches DynamoDB with environment credentials (signed request, endpoint cache, no event streams)', async () => {
    const result = (await runInLambdaLikeProcess(`
      const { handler } = await import(${JSON.stringify(join(dir, 'health.mjs'))});
      const res = await handler({ rawPath: '/api/health', headers: {}, requestContext: { requestId: 'r', http: { method: 'GET', sourceIp: '203.0.113.7' } } }, {});
      console.log(JSON.stringify({ status: res.statusCode, body: JSON.parse(res.body) }));
    `)) as { status: number; body: { status: string; dynamodb: { reachable: boolean } } };
    assert.equal(result.status, 200, JSON.stringify(result));
    assert.equal(result.body.status, 'ok');
    assert.equal(result.body.dynamodb.reachable, true);
  });

  test('the $default bundle answers a ping through the real @connections client', async () => {
    const [connectionId] = [...rt.ws.connections.keys()];
    assert.ok(connectionId, 'a socket is open on the local gateway');
    const result = await runInLambdaLikeProcess(`
      const { handler } = await import(${JSON.stringify(join(dir, 'ping.mjs'))});
      const res = await handler({ body: '{"action":"ping"}', requestContext: { routeKey: '$default', eventType: 'MESSAGE', connectionId: ${JSON.stringify(connectionId)}, connectedAt: Date.now(), domainName: 'local', stage: 'bundled', requestId: 'r' } }, {});
      console.log(JSON.stringify(res));
    `);
    assert.deepEqual(result, { statusCode: 200 });
    const pong = await socket.next((f) => f.type === 'pong');
    assert.match(pong.time, /^\d{4}-\d{2}-\d{2}T/);
  });
});
