// End to end through the laptop runtime: real HTTP and a real WebSocket against the local gateways,
// the real handlers and DynamoDB Local.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ApiGatewayManagementApiClient,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
  DeleteConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { healthReport as healthSchema } from '../contract/system/get-health.ts';
import type { Runtime } from '../local/runtime.ts';
import { eventually, openSocket, request, startTestRuntime } from './support/runtime.ts';
import { connectAs, signUp, type Account } from './support/identity.ts';

const APP_ORIGIN = 'http://app.local.test:5173';
let rt: Runtime;
let alice: Account;
let management: ApiGatewayManagementApiClient;
let doc: Runtime['db']['doc'];

before(async () => {
  rt = await startTestRuntime({}, { throttleScale: 1, corsOrigins: [APP_ORIGIN] }); // this file tests the manifest's real throttles
  management = new ApiGatewayManagementApiClient({ endpoint: rt.wsUrl.replace(/^ws/, 'http'), region: 'us-east-1' });
  doc = rt.db.doc;
  alice = await signUp(rt);
});
after(async () => {
  management?.destroy();
  await rt?.stop();
});

const connectionRow = (id: string) =>
  doc.send(new GetCommand({ TableName: process.env.CONNECTIONS_TABLE, Key: { pk: `CONN#${id}`, sk: 'META' } })).then((r) => r.Item);

/** The connection id the gateway gave the newest socket. */
function newestConnectionId(before: Set<string>): string {
  const ids = [...rt.ws.connections.keys()].filter((id) => !before.has(id));
  assert.equal(ids.length, 1, 'exactly one new connection');
  return ids[0]!;
}

describe('HTTP API', () => {
  test('GET /api/health answers 200 with DynamoDB reachable, in the manifest shape', async () => {
    const res = await request(rt.httpUrl, 'GET', '/api/health');
    assert.equal(res.status, 200);
    assert.ok(healthSchema.safeParse(res.json).success, res.text);
    assert.equal(res.json.status, 'ok');
    assert.equal(res.json.dynamodb.reachable, true);
    assert.equal(res.json.stage, 'test');
  });

  test('every response carries the security headers, errors included', async () => {
    for (const [path, status] of [
      ['/api/health', 200],
      ['/api/health?x=1', 400],
    ] as const) {
      const res = await request(rt.httpUrl, 'GET', path);
      assert.equal(res.status, status);
      assert.match(res.headers.get('strict-transport-security') ?? '', /max-age=(\d{8,}|3153[6-9]\d{3}|31[6-9]\d{5}|3[2-9]\d{6}); includeSubDomains/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.equal(res.headers.get('x-powered-by'), null);
    }
  });

  test('unknown query keys are refused with field-level details', async () => {
    const res = await request(rt.httpUrl, 'GET', '/api/health?verbose=1');
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, 'validation_failed');
    assert.deepEqual(
      res.json.error.details.map((d: { path: string }) => d.path),
      ['query.verbose'],
    );
  });

  test('the gateway serves every HTTP route of the manifest', async () => {
    const { httpRoutes } = await import('../lib/routes.ts');
    for (const r of httpRoutes) {
      const res = await request(rt.httpUrl, r.method, r.path.replace(/\{\w+\}/g, 'x'));
      assert.notDeepEqual(res.json, { message: 'Not Found' }, `${r.method} ${r.path}`);
    }
  });

  test("unknown routes and methods get API Gateway's 404", async () => {
    const res = await request(rt.httpUrl, 'POST', '/api/health', { body: {} });
    assert.equal(res.status, 404);
    assert.deepEqual(res.json, { message: 'Not Found' });
    const res2 = await request(rt.httpUrl, 'GET', '/api/nothing-here');
    assert.equal(res2.status, 404);
  });
});

describe('CORS', () => {
  test('an allowed origin gets a preflight answer and credentialed CORS headers; others get none', async () => {
    const preflight = await fetch(`${rt.httpUrl}/api/users/me`, {
      method: 'OPTIONS',
      headers: { origin: APP_ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
    const actual = await fetch(`${rt.httpUrl}/api/health`, { headers: { origin: APP_ORIGIN } });
    assert.equal(actual.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.match(actual.headers.get('access-control-expose-headers') ?? '', /retry-after/);
    const stranger = await fetch(`${rt.httpUrl}/api/health`, { headers: { origin: 'https://evil.example' } });
    assert.equal(stranger.headers.get('access-control-allow-origin'), null);
    const strangerPreflight = await fetch(`${rt.httpUrl}/api/users/me`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    assert.equal(strangerPreflight.headers.get('access-control-allow-origin'), null);
  });

  test('origins must be exact scheme://host[:port]', async () => {
    const { parseOrigins } = await import('../lib/cors.ts');
    assert.deepEqual(parseOrigins(' https://a.example , http://localhost:5173 '), ['https://a.example', 'http://localhost:5173']);
    assert.throws(() => parseOrigins('*'), /CORS origin/);
    assert.throws(() => parseOrigins('https://a.example/path'), /CORS origin/);
  });
});

describe('WebSocket API', () => {
  test('ping gets pong', async () => {
    const s = await connectAs(rt, alice.accessToken);
    s.send({ action: 'ping' });
    const frame = await s.next();
    assert.equal(frame.type, 'pong');
    assert.ok(!Number.isNaN(Date.parse(frame.time)));
    await s.close();
  });

  test('an unknown action, bad JSON and a frame without action each get a clear error frame', async () => {
    const s = await connectAs(rt, alice.accessToken);
    s.send({ action: 'launchMissiles' });
    const unknown = await s.next();
    assert.equal(unknown.type, 'error');
    assert.equal(unknown.code, 'unknown_action');
    assert.match(unknown.message, /launchMissiles/);

    s.send('{not json');
    const bad = await s.next();
    assert.deepEqual([bad.type, bad.code], ['error', 'invalid_json']);

    s.send({ hello: 'world' });
    const missing = await s.next();
    assert.deepEqual([missing.type, missing.code], ['error', 'validation_failed']);
    assert.equal(missing.details[0].path, 'frame.action');

    // the socket still works after errors
    s.send({ action: 'ping' });
    assert.equal((await s.next()).type, 'pong');
    await s.close();
  });

  test('$connect without a ticket, with a made-up one, or with extra parameters is refused', async () => {
    await assert.rejects(openSocket(rt.wsUrl), (e: { status?: number }) => e.status === 401);
    await assert.rejects(openSocket(`${rt.wsUrl}/?token=${alice.accessToken}`), (e: { status?: number }) => e.status === 401);
    await assert.rejects(openSocket(`${rt.wsUrl}/?ticket=${'A'.repeat(43)}`), (e: { status?: number }) => e.status === 401);
    const ticket = (await request(rt.httpUrl, 'POST', '/api/ws/ticket', { headers: { authorization: `Bearer ${alice.accessToken}` } })).json.ticket;
    await assert.rejects(openSocket(`${rt.wsUrl}/?ticket=${ticket}&extra=1`), (e: { status?: number }) => e.status === 400);
  });

  test('connections are recorded on $connect and forgotten on $disconnect', async () => {
    const known = new Set(rt.ws.connections.keys());
    const s = await connectAs(rt, alice.accessToken);
    const id = newestConnectionId(known);
    const row = await eventually(
      () => connectionRow(id),
      (r) => r !== undefined,
    );
    assert.ok(row, 'row written by $connect');
    assert.equal(row.connectionId, id);
    assert.equal(row.userId, alice.userId, "the connection belongs to the ticket's user");
    assert.ok(row.expiresAt > Date.now() / 1000 + 2 * 3600, 'TTL outlives the 2 h connection limit');
    await s.close();
    const gone = await eventually(
      () => connectionRow(id),
      (r) => r === undefined,
    );
    assert.equal(gone, undefined, 'row deleted by $disconnect');
  });

  test('@connections: GET describes, POST delivers, DELETE closes, unknown ids are 410 Gone', async () => {
    const known = new Set(rt.ws.connections.keys());
    const s = await connectAs(rt, alice.accessToken);
    const id = newestConnectionId(known);

    const info = await management.send(new GetConnectionCommand({ ConnectionId: id }));
    assert.ok(info.ConnectedAt instanceof Date);
    assert.equal(info.Identity?.SourceIp, '127.0.0.1');

    await management.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from(JSON.stringify({ type: 'hello' })) }));
    assert.deepEqual(await s.next(), { type: 'hello' });

    await management.send(new DeleteConnectionCommand({ ConnectionId: id }));
    const closed = await s.closed;
    assert.equal(closed.code, 1000);
    await eventually(
      () => connectionRow(id),
      (r) => r === undefined,
    );
    assert.equal(await connectionRow(id), undefined, '$disconnect ran after DELETE');

    await assert.rejects(management.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('{}') })), (e) => e instanceof GoneException);
    await assert.rejects(management.send(new GetConnectionCommand({ ConnectionId: 'never-existed=' })), (e) => e instanceof GoneException);
  });
});

describe('gateway throttling', () => {
  test('a burst beyond the route throttle gets 429 from the gateway, not the handler', async () => {
    const { routes } = await import('../lib/routes.ts');
    const { rate, burst } = routes.getHealth.throttle;
    const total = burst + 60;
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: total }, () => request(rt.httpUrl, 'GET', '/api/health')));
    const elapsedSeconds = (performance.now() - started) / 1000;
    const ok = results.filter((r) => r.status === 200).length;
    const limited = results.filter((r) => r.status === 429);
    // a token bucket lets through the burst plus what refilled while the requests were arriving
    const allowed = burst + Math.ceil(rate * elapsedSeconds) + 1;
    assert.ok(ok <= allowed, `at most ${allowed} succeed, got ${ok}`);
    assert.equal(ok + limited.length, total, 'every refusal is a 429');
    assert.ok(limited.length > 0);
    assert.deepEqual(limited[0]!.json, { message: 'Too Many Requests' });
  });
});

describe('when DynamoDB is down', () => {
  test('health answers 503 with reachable: false instead of failing', async () => {
    rt.clock.advance(2500); // the throttle bucket refills after the burst above
    await rt.dynamo.stop();
    const res = await request(rt.httpUrl, 'GET', '/api/health');
    assert.equal(res.status, 503);
    assert.equal(res.json.status, 'degraded');
    assert.equal(res.json.dynamodb.reachable, false);
    assert.ok(healthSchema.safeParse(res.json).success);
  });
});
