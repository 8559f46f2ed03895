// The local gateways at their edges, through real HTTP and WebSocket: prototype-named query keys reach
// the handlers (which refuse them, as behind API Gateway), the answers the gateways make themselves
// carry the same security headers as the Middy stack's, and `{}` is "no fields" on routes without a body.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { Runtime } from '../local/runtime.ts';
import { closeCodes } from '../contract/realtime/close-codes.ts';
import { request, startTestRuntime, type HttpReply } from './support/runtime.ts';
import { bearer, me, outbox, signUp, uniqueEmail, type Account } from './support/identity.ts';

const APP_ORIGIN = 'http://app.local.test:5173';
let rt: Runtime;
let alice: Account;
let bob: Account;
/** The security headers a handler's answer carries (GET /api/health through the Middy stack). */
let stackHeaders: Map<string, string>;

before(async () => {
  // The manifest's real throttles (scale 1): one test needs the gateway's own 429s.
  rt = await startTestRuntime({}, { throttleScale: 1, corsOrigins: [APP_ORIGIN] });
  alice = await signUp(rt);
  bob = await signUp(rt);
  const health = await request(rt.httpUrl, 'GET', '/api/health');
  assert.equal(health.status, 200);
  const transport = /^(content-type|content-length|date|connection|keep-alive|transfer-encoding|vary|access-control-.*)$/;
  stackHeaders = new Map([...health.headers].filter(([name]) => !transport.test(name)));
});
after(async () => {
  await rt?.stop();
});

/** Asserts a gateway-made answer carries every security header of a handler-made one, with the same value. */
function assertStackHeaders(headers: Headers | Record<string, string | string[] | undefined>, what: string): void {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : ((headers[name] as string | undefined) ?? null));
  // the reference itself must be the full set, or comparing against it proves nothing
  assert.match(stackHeaders.get('strict-transport-security') ?? '', /^max-age=31536000; includeSubDomains; preload$/);
  for (const name of ['x-content-type-options', 'cache-control', 'content-security-policy', 'x-frame-options', 'referrer-policy']) {
    assert.ok(stackHeaders.has(name), `the Middy stack sends ${name}`);
  }
  for (const [name, value] of stackHeaders) assert.equal(get(name), value, `${what}: ${name}`);
  assert.equal(get('x-content-type-options'), 'nosniff', what);
  assert.equal(get('cache-control'), 'no-store', what);
  assert.match(get('content-security-policy') ?? '', /default-src 'none'/, what);
  assert.equal(get('x-frame-options'), 'DENY', what);
}

/** A raw request (fetch cannot send a Content-Length it does not mean, nor PATCH to any path as-is). */
function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body?: Buffer | string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** An upgrade the gateway refuses: its status and headers (ws rejects the open). */
function refusedUpgrade(url: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      reject(new Error(`upgrade to ${url} was accepted`));
    });
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    ws.once('error', () => undefined);
  });
}

function assertValidationFailed(res: HttpReply, paths: string[]): void {
  assert.equal(res.status, 400, res.text);
  assert.equal(res.json.error.code, 'validation_failed');
  assert.deepEqual(
    res.json.error.details.map((d: { path: string }) => d.path),
    paths,
  );
}

async function ticket(account: Account): Promise<string> {
  const res = await request(rt.httpUrl, 'POST', '/api/ws/ticket', { headers: bearer(account.accessToken) });
  assert.equal(res.status, 201, res.text);
  return res.json.ticket;
}

describe('query keys named like Object.prototype members reach the handler, which refuses them', () => {
  for (const key of ['__proto__', 'constructor']) {
    test(`?${key}= on a public route: 400 validation_failed, no code sent`, async () => {
      const destination = uniqueEmail('proto');
      const res = await request(rt.httpUrl, 'POST', `/api/auth/otp/request?${key}=1`, { body: { channel: 'email', destination, purpose: 'register' } });
      assertValidationFailed(res, [`query.${key}`]);
      assert.equal((await outbox(rt)).filter((l) => l.destination === destination).length, 0, 'no code was sent');
    });

    test(`?${key}= on a signed-in route: 400 validation_failed, the session lives on`, async () => {
      const erin = await signUp(rt);
      const res = await request(rt.httpUrl, 'POST', `/api/auth/logout?${key}=1`, { headers: bearer(erin.accessToken) });
      assertValidationFailed(res, [`query.${key}`]);
      assert.equal((await me(rt, erin.accessToken)).status, 200, 'not logged out');
      const refreshed = await request(rt.httpUrl, 'POST', '/api/auth/refresh', { body: { refreshToken: erin.refreshToken } });
      assert.equal(refreshed.status, 200, refreshed.text);
    });

    test(`?${key}= on a path-parameter route: 400 validation_failed, nobody blocked`, async () => {
      const res = await request(rt.httpUrl, 'POST', `/api/users/${bob.userId}/block?${key}=x`, { headers: bearer(alice.accessToken) });
      assertValidationFailed(res, [`query.${key}`]);
      const blocked = await request(rt.httpUrl, 'GET', '/api/users/blocked', { headers: bearer(alice.accessToken) });
      assert.equal(blocked.status, 200, blocked.text);
      assert.equal(JSON.stringify(blocked.json).includes(bob.userId), false, 'bob is not blocked');
    });

    test(`?${key}= on $connect: the upgrade is refused with 400`, async () => {
      const refused = await refusedUpgrade(`${rt.wsUrl}/?ticket=${await ticket(alice)}&${key}=1`);
      assert.equal(refused.status, 400, refused.text);
    });
  }

  test('the event the gateway builds keeps such query keys and headers as own entries with their values', async () => {
    const { toEventV2 } = await import('../local/http-gateway.ts');
    const { routes } = await import('../lib/routes.ts');
    const req = {
      rawHeaders: ['Host', 'localhost', '__proto__', 'p', 'Constructor', 'c', 'toString', 't'],
      socket: { remoteAddress: '127.0.0.1' },
      method: 'POST',
      httpVersion: '1.1',
    } as any;
    const url = new URL('http://localhost/api/users/u1/block?__proto__=1&constructor=2&constructor=3&hasOwnProperty=4');
    const pathParameters = Object.assign(Object.create(null), { userId: 'u1' });
    const event = toEventV2(req, url, routes.blockUser, pathParameters, Buffer.alloc(0));
    assert.deepEqual(Object.entries(event.queryStringParameters ?? {}), [
      ['__proto__', '1'],
      ['constructor', '2,3'],
      ['hasOwnProperty', '4'],
    ]);
    assert.deepEqual(Object.entries(event.headers), [
      ['host', 'localhost'],
      ['__proto__', 'p'],
      ['constructor', 'c'],
      ['tostring', 't'],
    ]);
    assert.deepEqual(Object.entries(event.pathParameters ?? {}), [['userId', 'u1']]);
  });
});

describe('answers the gateways make themselves carry the security headers', () => {
  test('HTTP: 404 unknown route, 404 wrong method, 400 bad path encoding, 204 preflight', async () => {
    const cases: [string, string, number, Record<string, string>?][] = [
      ['GET', '/api/nothing-here', 404],
      ['DELETE', '/api/health', 404],
      ['POST', '/api/users/%E0%A4%A/block', 400],
      ['OPTIONS', '/api/users/me', 204, { origin: APP_ORIGIN, 'access-control-request-method': 'GET' }],
    ];
    for (const [method, path, status, headers] of cases) {
      const res = await raw(rt.httpUrl, method, path, headers);
      assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
      assertStackHeaders(res.headers, `${method} ${path}`);
    }
  });

  test('HTTP: 413 for a body over API Gateway’s 10 MB, declared or streamed', { timeout: 30_000 }, async () => {
    const res = await raw(rt.httpUrl, 'POST', '/api/auth/login', { 'content-type': 'application/json', 'content-length': 10 * 1024 * 1024 + 1 }, '{}');
    assert.equal(res.status, 413, res.text);
    assert.deepEqual(JSON.parse(res.text), { message: 'Request Entity Too Large' });
    assertStackHeaders(res.headers, '413');
    const streamed = await raw(
      rt.httpUrl,
      'POST',
      '/api/auth/login',
      { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      Buffer.alloc(10 * 1024 * 1024 + 1, 0x20),
    );
    assert.equal(streamed.status, 413, streamed.text);
    assertStackHeaders(streamed.headers, '413 streamed');
  });

  test('HTTP: 429 from the gateway throttle', async () => {
    let limited: Awaited<ReturnType<typeof raw>> | undefined;
    for (let i = 0; i < 400 && !limited; i++) {
      const res = await raw(rt.httpUrl, 'GET', '/api/health');
      if (res.status === 429) limited = res;
    }
    rt.clock.advance(5000); // refill the buckets for the tests after this one
    assert.ok(limited, 'the health route throttle answered 429');
    assert.deepEqual(JSON.parse(limited.text), { message: 'Too Many Requests' });
    assertStackHeaders(limited.headers, '429');
  });

  test('WebSocket upgrade refusals: 401 without a ticket, 400 from $connect, 429 from the throttle', async () => {
    const unauthorized = await refusedUpgrade(rt.wsUrl);
    assert.equal(unauthorized.status, 401);
    assert.equal(unauthorized.status, closeCodes.ticket_invalid.upgradeStatus, 'the close-code table names this refusal');
    assertStackHeaders(unauthorized.headers, 'upgrade 401');
    const bad = await refusedUpgrade(`${rt.wsUrl}/?ticket=${await ticket(alice)}&extra=1`);
    assert.equal(bad.status, 400);
    assertStackHeaders(bad.headers, 'upgrade 400');
    let limited: Awaited<ReturnType<typeof refusedUpgrade>> | undefined;
    // in concurrent batches, so the bucket (500 a second) drains faster than it refills on a busy machine
    for (let i = 0; i < 20 && !limited; i++) {
      const batch = await Promise.all(Array.from({ length: 100 }, () => refusedUpgrade(rt.wsUrl)));
      limited = batch.find((res) => res.status === 429);
    }
    rt.clock.advance(5000);
    assert.ok(limited, 'the $connect throttle answered 429');
    assert.equal(limited.status, closeCodes.throttled.upgradeStatus, 'the close-code table names this refusal');
    assertStackHeaders(limited.headers, 'upgrade 429');
  });

  test('@connections and anything else on the WebSocket port: 404, 400, 410, 413, 405, 200', async () => {
    const base = rt.wsUrl.replace(/^ws/, 'http');
    const known = new Set(rt.ws.connections.keys());
    const socket = new WebSocket(`${rt.wsUrl}/?ticket=${await ticket(alice)}`);
    await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)));
    const id = [...rt.ws.connections.keys()].find((k) => !known.has(k))!;
    try {
      const cases: [string, string, number, (Buffer | string)?][] = [
        ['GET', '/', 404],
        ['GET', '/@connections/%E0%A4%A', 400],
        ['GET', '/@connections/never-existed=', 410],
        ['POST', `/@connections/${encodeURIComponent(id)}`, 413, Buffer.alloc(128 * 1024 + 1, 0x61)],
        ['PATCH', `/@connections/${encodeURIComponent(id)}`, 405],
        ['GET', `/@connections/${encodeURIComponent(id)}`, 200],
      ];
      for (const [method, path, status, body] of cases) {
        const res = await raw(base, method, path, {}, body);
        assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
        assertStackHeaders(res.headers, `${method} ${path}`);
      }
    } finally {
      socket.close();
    }
  });
});

describe('routes that take no body accept an empty JSON object', () => {
  test('{} is "no fields": a ticket, a block and logout-all all work', async () => {
    const carol = await signUp(rt);
    const t = await request(rt.httpUrl, 'POST', '/api/ws/ticket', { headers: bearer(carol.accessToken), body: {} });
    assert.equal(t.status, 201, t.text);
    assert.equal(typeof t.json.ticket, 'string');
    const block = await request(rt.httpUrl, 'POST', `/api/users/${bob.userId}/block`, { headers: bearer(carol.accessToken), raw: ' { } ', body: undefined });
    // raw without a content type is text/plain: refused below; with one it is accepted
    assert.equal(block.status, 400, block.text);
    assert.equal(block.json.error.code, 'unexpected_body');
    const blockJson = await request(rt.httpUrl, 'POST', `/api/users/${bob.userId}/block`, {
      headers: { ...bearer(carol.accessToken), 'content-type': 'application/json' },
      raw: ' { } ',
    });
    assert.equal(blockJson.status, 200, blockJson.text);
    assert.equal(blockJson.json.userId, bob.userId);
    const all = await request(rt.httpUrl, 'POST', '/api/auth/logout-all', { headers: bearer(carol.accessToken), body: {} });
    assert.equal(all.status, 204, all.text);
    assert.equal((await me(rt, carol.accessToken)).status, 401, 'every session ended');
  });

  test('an empty body, with or without a JSON content type, is still fine', async () => {
    for (const headers of [{}, { 'content-type': 'application/json' }] as Record<string, string>[]) {
      const res = await request(rt.httpUrl, 'POST', '/api/ws/ticket', { headers: { ...bearer(alice.accessToken), ...headers }, raw: '' });
      assert.equal(res.status, 201, res.text);
    }
  });

  test('any field, and anything but an object, is refused and changes nothing', async () => {
    const dave = await signUp(rt);
    const fields = await request(rt.httpUrl, 'POST', '/api/auth/logout-all', { headers: bearer(dave.accessToken), body: { everywhere: true } });
    assertValidationFailed(fields, ['body.everywhere']);
    for (const value of [[], null, 'x', 0, [{}]]) {
      const res = await request(rt.httpUrl, 'POST', '/api/auth/logout-all', { headers: bearer(dave.accessToken), body: value });
      assertValidationFailed(res, ['body']);
    }
    const broken = await request(rt.httpUrl, 'POST', '/api/auth/logout-all', {
      headers: { ...bearer(dave.accessToken), 'content-type': 'application/json' },
      raw: '{"',
    });
    assert.equal(broken.status, 400);
    assert.equal(broken.json.error.code, 'invalid_json');
    assert.equal((await me(rt, dave.accessToken)).status, 200, 'still signed in');
    const block = await request(rt.httpUrl, 'POST', `/api/users/${bob.userId}/block`, { headers: bearer(dave.accessToken), body: { reason: 'x' } });
    assertValidationFailed(block, ['body.reason']);
    const blocked = await request(rt.httpUrl, 'GET', '/api/users/blocked', { headers: bearer(dave.accessToken) });
    assert.equal(JSON.stringify(blocked.json).includes(bob.userId), false, 'bob is not blocked');
  });
});
