// The laptop runtime as a newcomer meets it: `npm start` prints its URLs, answers, stops cleanly on
// SIGTERM without leaving Java behind, explains a missing Java, and refuses to run inside Lambda.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { assertJava, createTables, JavaMissingError, localClient, physicalTableName, startDynamoLocal } from '../local/dynamodb.ts';
import { projectRoot } from '../local/lambda.ts';
import { tables } from '../lib/tables.ts';
import { assertNotLocalInLambda, loadConfig } from '../functions/core/config.ts';
import { assertNotInLambda } from '../local/runtime.ts';
import { connectAs, signUp } from './support/identity.ts';

const startScript = join(projectRoot, 'local', 'start.ts');

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('npm start', () => {
  test('prints its URLs, serves health and ping, and stops on SIGTERM leaving no Java behind', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'nexchat-start-'));
    const child = spawn(process.execPath, [startScript, '--in-memory', '--http-port', '0', '--ws-port', '0', '--s3-port', '0'], {
      cwd: projectRoot,
      env: { ...process.env, LOG_LEVEL: 'SILENT', NEXCHAT_DATA_DIR: dataDir },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!out.includes('Press Ctrl-C') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /NexChat is running/, out);
    const httpUrl = /HTTP API\s+(http:\S+)/.exec(out)![1]!;
    const wsUrl = /WebSocket API\s+(ws:\S+)/.exec(out)![1]!;
    const dynamoPort = Number(/DynamoDB Local\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);

    const health = await fetch(`${httpUrl}/api/health`);
    assert.equal(health.status, 200);
    const outboxFile = join(dataDir, 'outbox.jsonl');
    // another process runs the queue: its delivery is done once the code is in the outbox file
    const delivered = async () => {
      for (let i = 0; i < 200 && !(existsSync(outboxFile) && readFileSync(outboxFile, 'utf8').includes('"register"')); i++)
        await new Promise((r) => setTimeout(r, 25));
    };
    const account = await signUp({ httpUrl, outboxFile, queues: { otp: { drained: delivered } } });
    assert.match(out, /\[dev outbox\] email to .* \(register\): code \d{6}/, 'npm start prints OTP codes');
    const socket = await connectAs({ httpUrl, wsUrl }, account.accessToken);
    socket.send({ action: 'ping' });
    assert.equal((await socket.next()).type, 'pong');
    assert.equal(await portOpen(dynamoPort), true, 'DynamoDB Local is listening');

    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
    await socket.closed;
    assert.equal(await portOpen(dynamoPort), false, 'DynamoDB Local (Java) stopped with it');
  });

  test('without Java it stops at once and says how to install it', () => {
    // a PATH holding node and nothing else, wherever node itself is installed
    const bin = mkdtempSync(join(tmpdir(), 'nexchat-nojava-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const result = spawnSync(join(bin, 'node'), [startScript, '--in-memory'], {
      cwd: projectRoot,
      env: { ...process.env, PATH: bin },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /Java was not found/);
    assert.match(result.stderr, /apt-get install -y openjdk-17-jre-headless/);
  });

  test('refuses to start inside AWS Lambda', () => {
    const result = spawnSync(process.execPath, [startScript, '--in-memory'], {
      cwd: projectRoot,
      env: { ...process.env, AWS_LAMBDA_FUNCTION_NAME: 'nexchat-prod-GetHealth' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /refuses to start inside AWS Lambda/);
  });
});

describe('Lambda refuses local-only settings', () => {
  test('NEXCHAT_LOCAL or a DynamoDB endpoint inside Lambda throws at load', () => {
    assert.throws(() => loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'f', NEXCHAT_LOCAL: 'true' }), /refusing local-only settings/);
    assert.throws(() => loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'f', DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' }), /refusing a local endpoint/);
    assert.equal(loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'f' }).local, false);
    assert.equal(loadConfig({ NEXCHAT_LOCAL: 'true' }).local, true);
    assert.doesNotThrow(() => assertNotLocalInLambda({ inLambda: false, local: true }));
  });

  test('the dev runtime refuses a Lambda environment', () => {
    assert.throws(() => assertNotInLambda({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' }), /refuses/);
    assert.doesNotThrow(() => assertNotInLambda({}));
  });

  test('invalid configuration is refused with the field named', () => {
    assert.throws(() => loadConfig({ MAX_BODY_BYTES: '-5' }), /MAX_BODY_BYTES/);
  });
});

describe('DynamoDB Local', () => {
  test('a missing Java is reported as such', () => {
    assert.throws(() => assertJava('/nonexistent/java'), JavaMissingError);
    assert.ok(assertJava() >= 17);
  });

  test('tables are created from lib/tables.ts with their keys, indexes and TTL, idempotently', async () => {
    const db = await startDynamoLocal();
    const client = localClient(db.endpoint);
    try {
      await createTables(db.endpoint, 'schema');
      await createTables(db.endpoint, 'schema'); // second start over persisted data must not fail
      for (const t of tables) {
        const name = physicalTableName('schema', t);
        const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
        assert.deepEqual(
          Table?.KeySchema?.map((k) => k.AttributeName),
          [t.partitionKey.name, t.sortKey.name],
        );
        assert.deepEqual((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort(), t.indexes.map((i) => i.name).sort());
        const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
        assert.equal(ttl.TimeToLiveDescription?.AttributeName, t.ttlAttribute, t.id);
      }
    } finally {
      client.destroy();
      await db.stop();
    }
    assert.equal(await portOpen(db.port), false);
  });
});
