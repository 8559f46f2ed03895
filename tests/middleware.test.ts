// Handler tests through the Middy stacks, called the way Lambda calls them: validation, body parsing,
// error mapping, headers, access and logs. A test-only route exercises body, query and path schemas.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { httpContract } from '../contract/route.ts';
import { captureOutput } from './support/capture.ts';

process.env.LOG_LEVEL = 'INFO';
process.env.MAX_BODY_BYTES = '1024';
const { httpHandler } = await import('../functions/middleware/http-handler.ts');
const { httpGate } = await import('../functions/wiring/auth.ts');
const { NotFound, RateLimited } = await import('../functions/core/errors.ts');

const echoRoute = httpContract({
  id: 'Echo',
  method: 'POST',
  path: '/test/{itemId}',
  access: 'public',
  summary: 'test route',
  input: {
    body: z.strictObject({ name: z.string().check(z.minLength(2), z.maxLength(10)), password: z.optional(z.string()) }),
    query: z.strictObject({ limit: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(10))) }),
    path: z.strictObject({ itemId: z.uuid() }),
  },
  output: { 200: z.object({ name: z.string(), itemId: z.string(), limit: z.optional(z.number()) }) },
});

const calls: unknown[] = [];
let behaviour: 'echo' | 'notFound' | 'crash' | 'limited' = 'echo';
const echo = httpHandler(echoRoute).handle(async ({ body, path, query }) => {
  calls.push(body);
  if (behaviour === 'notFound') throw new NotFound('No such item', 'item_not_found');
  if (behaviour === 'crash') throw new Error('db password=hunter2 at /srv/secret/path.ts:12');
  if (behaviour === 'limited') throw new RateLimited('login attempts for this account', 42);
  return { body: { name: body.name, itemId: path.itemId, limit: query.limit } };
});

const noBodyRoute = httpContract({
  id: 'NoBody',
  method: 'POST',
  path: '/test/none',
  access: 'public',
  summary: 'test route without input',
  input: {},
  output: { 204: null },
});
const noBodyCalls: unknown[] = [];
const noBody = httpHandler(noBodyRoute).handle(async ({ body }) => {
  noBodyCalls.push(body);
  return { statusCode: 204 };
});

const userRoute = httpContract({ ...echoRoute, id: 'Private', access: 'user' });
const privateHandler = httpHandler(userRoute, httpGate).handle(async () => ({ body: { name: 'x', itemId: 'y' } }));

const itemId = '4b0a0c5e-7f39-4b7e-9a53-0c1f6f0d7c11';
const context = { awsRequestId: 'req', functionName: 'test', getRemainingTimeInMillis: () => 1000 } as unknown as Context;

function event(over: Partial<APIGatewayProxyEventV2> & { body?: string } = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /test/{itemId}',
    rawPath: `/test/${itemId}`,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    pathParameters: { itemId },
    requestContext: {
      accountId: '1',
      apiId: 'a',
      domainName: 'd',
      domainPrefix: 'd',
      http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 't' },
      requestId: 'r1',
      routeKey: 'POST /test/{itemId}',
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
    isBase64Encoded: false,
    body: JSON.stringify({ name: 'alice' }),
    ...over,
  };
}

async function call(handler: (e: APIGatewayProxyEventV2, c: Context) => Promise<any>, e: APIGatewayProxyEventV2) {
  const res = await handler(e, context);
  return { ...res, json: res.body ? JSON.parse(res.body) : undefined };
}

function assertSecurityHeaders(headers: Record<string, unknown> | undefined) {
  assert.match(String(headers?.['Strict-Transport-Security']), /^max-age=31536000; includeSubDomains/);
  assert.equal(headers?.['X-Content-Type-Options'], 'nosniff');
  assert.equal(headers?.['Cache-Control'], 'no-store');
  assert.equal(headers?.['X-Frame-Options'], 'DENY');
}

describe('httpHandler', () => {
  test('valid input reaches the handler, typed and coerced', async () => {
    behaviour = 'echo';
    const res = await call(echo, event({ queryStringParameters: { limit: '3' } }));
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json, { name: 'alice', itemId, limit: 3 });
    assertSecurityHeaders(res.headers);
  });

  const bad: [string, Partial<APIGatewayProxyEventV2>, number, string, string[]?][] = [
    ['unknown body key', { body: JSON.stringify({ name: 'alice', admin: true }) }, 400, 'validation_failed', ['body.admin']],
    ['too short a field', { body: JSON.stringify({ name: 'a' }) }, 400, 'validation_failed', ['body.name']],
    ['wrong type', { body: JSON.stringify({ name: 42 }) }, 400, 'validation_failed', ['body.name']],
    ['array instead of object', { body: '[1,2]' }, 400, 'validation_failed', ['body']],
    ['bad JSON', { body: '{"name": "al' }, 400, 'invalid_json'],
    ['empty body', { body: '' }, 400, 'invalid_json'],
    ['wrong content type', { headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type'],
    ['missing content type', { headers: {} }, 415, 'unsupported_media_type'],
    ['oversized body', { body: JSON.stringify({ name: 'x'.repeat(2000) }) }, 413, 'payload_too_large'],
    ['unknown query key', { queryStringParameters: { sort: 'asc' } }, 400, 'validation_failed', ['query.sort']],
    ['query out of range', { queryStringParameters: { limit: '1000' } }, 400, 'validation_failed', ['query.limit']],
    ['path parameter not a uuid', { pathParameters: { itemId: '../../etc/passwd' } }, 400, 'validation_failed', ['path.itemId']],
  ];
  for (const [name, over, status, code, paths] of bad) {
    test(`${name} → ${status} ${code}, handler never runs`, async () => {
      behaviour = 'echo';
      calls.length = 0;
      const res = await call(echo, event(over));
      assert.equal(res.statusCode, status);
      assert.equal(res.json.error.code, code);
      assert.equal(typeof res.json.error.message, 'string');
      if (paths)
        assert.deepEqual(
          res.json.error.details.map((d: { path: string }) => d.path),
          paths,
        );
      assert.equal(calls.length, 0, 'handler must not run on bad input');
      assertSecurityHeaders(res.headers);
    });
  }

  test('JSON with a charset and +json types are accepted', async () => {
    behaviour = 'echo';
    for (const type of ['application/json; charset=utf-8', 'application/merge-patch+json']) {
      const res = await call(echo, event({ headers: { 'content-type': type } }));
      assert.equal(res.statusCode, 200, type);
    }
  });

  test('base64-encoded bodies are decoded before parsing', async () => {
    behaviour = 'echo';
    const res = await call(echo, event({ isBase64Encoded: true, body: Buffer.from(JSON.stringify({ name: 'bob' })).toString('base64') }));
    assert.equal(res.statusCode, 200);
    assert.equal(res.json.name, 'bob');
  });

  test('typed domain errors map to their status and the one error shape', async () => {
    behaviour = 'notFound';
    const res = await call(echo, event());
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json, { error: { code: 'item_not_found', message: 'No such item' } });
    assertSecurityHeaders(res.headers);
  });

  test('rate limiting errors carry Retry-After and say what was limited', async () => {
    behaviour = 'limited';
    const res = await call(echo, event());
    assert.equal(res.statusCode, 429);
    assert.equal(res.headers?.['Retry-After'], '42');
    assert.equal(res.json.error.details.limited, 'login attempts for this account');
    assert.equal(res.json.error.details.retryAfterSeconds, 42);
  });

  test('an unexpected error is a generic 500 that leaks nothing', async () => {
    behaviour = 'crash';
    const res = await call(echo, event());
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json, { error: { code: 'internal', message: 'Internal error' } });
    assert.doesNotMatch(res.body ?? '', /hunter2|\/srv|\.ts|at /);
    assertSecurityHeaders(res.headers);
  });

  test('routes that need a user refuse anonymous calls with 401 before reading input', async () => {
    const res = await call(privateHandler, event({ body: 'not even json' }));
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers?.['WWW-Authenticate'], 'Bearer');
  });

  test('logs are structured JSON without bodies, headers or tokens', async () => {
    behaviour = 'echo';
    const text = await captureOutput(async () => {
      await call(
        echo,
        event({
          headers: { 'content-type': 'application/json', authorization: 'Bearer eyJsecret.token.value' },
          body: JSON.stringify({ name: 'alice', password: 'correct horse' }),
        }),
      );
      behaviour = 'crash';
      await call(echo, event({ headers: { 'content-type': 'application/json', authorization: 'Bearer eyJsecret.token.value' } }));
    });
    assert.ok(text.trim().split('\n').length >= 3, 'request lines and the error were logged');
    assert.match(text, /"unhandled error"/);
    for (const line of text.trim().split('\n')) JSON.parse(line);
    const entry = JSON.parse(text.trim().split('\n')[0]!);
    assert.equal(entry.route, 'Echo');
    assert.equal(entry.status, 200);
    assert.doesNotMatch(text, /eyJsecret|correct horse|alice/);
  });
});

describe('routes without a body schema', () => {
  const json = { 'content-type': 'application/json' };
  const accepted: [string, Partial<APIGatewayProxyEventV2>][] = [
    ['no body at all', { headers: {}, body: undefined }],
    ['an empty body', { headers: {}, body: '' }],
    ['an empty body labelled JSON', { headers: json, body: '' }],
    ['{}', { headers: json, body: '{}' }],
    ['{} with spaces and a charset', { headers: { 'content-type': 'application/json; charset=utf-8' }, body: ' { }\n' }],
    ['{} base64-encoded', { headers: json, body: Buffer.from('{}').toString('base64'), isBase64Encoded: true }],
    ['whitespace labelled JSON', { headers: json, body: ' \n' }],
  ];
  for (const [name, over] of accepted) {
    test(`${name} → 204, the handler sees no body`, async () => {
      noBodyCalls.length = 0;
      const res = await call(noBody, event({ routeKey: 'POST /test/none', pathParameters: undefined, ...over }));
      assert.equal(res.statusCode, 204, res.body);
      assert.deepEqual(noBodyCalls, [undefined]);
      assertSecurityHeaders(res.headers);
    });
  }

  const refused: [string, Partial<APIGatewayProxyEventV2>, number, string, string[]?][] = [
    ['a field', { headers: json, body: '{"all":true}' }, 400, 'validation_failed', ['body.all']],
    ['two fields', { headers: json, body: '{"a":1,"b":{}}' }, 400, 'validation_failed', ['body.a,b']],
    ['a __proto__ field', { headers: json, body: '{"__proto__":{"admin":true}}' }, 400, 'validation_failed', ['body.__proto__']],
    ['an array', { headers: json, body: '[]' }, 400, 'validation_failed', ['body']],
    ['null', { headers: json, body: 'null' }, 400, 'validation_failed', ['body']],
    ['a string', { headers: json, body: '"{}"' }, 400, 'validation_failed', ['body']],
    ['a number', { headers: json, body: '0' }, 400, 'validation_failed', ['body']],
    ['bad JSON', { headers: json, body: '{' }, 400, 'invalid_json'],
    ['{} that is not labelled JSON', { headers: { 'content-type': 'text/plain' }, body: '{}' }, 400, 'unexpected_body'],
    ['text', { headers: {}, body: 'hello' }, 400, 'unexpected_body'],
    ['an oversized body', { headers: json, body: `{${' '.repeat(2000)}}` }, 413, 'payload_too_large'],
  ];
  for (const [name, over, status, code, paths] of refused) {
    test(`${name} → ${status} ${code}, handler never runs`, async () => {
      noBodyCalls.length = 0;
      const res = await call(noBody, event({ routeKey: 'POST /test/none', pathParameters: undefined, ...over }));
      assert.equal(res.statusCode, status, res.body);
      assert.equal(res.json.error.code, code);
      if (paths)
        assert.deepEqual(
          res.json.error.details.map((d: { path: string }) => d.path),
          paths,
        );
      assert.equal(noBodyCalls.length, 0, 'handler must not run');
      assertSecurityHeaders(res.headers);
    });
  }
});

describe('stackHeaders()', () => {
  test('is exactly the header set a handler answer carries (the local gateway sends it on its own answers)', async () => {
    const { stackHeaders } = await import('../functions/middleware/http-handler.ts');
    const headers = await stackHeaders();
    assertSecurityHeaders(headers);
    assert.equal(headers['Strict-Transport-Security'], 'max-age=31536000; includeSubDomains; preload');
    assert.match(headers['Content-Security-Policy'] ?? '', /default-src 'none'/);
    assert.equal(headers['Referrer-Policy'], 'no-referrer');
    const answer = await call(noBody, event({ routeKey: 'POST /test/none', pathParameters: undefined, headers: {}, body: undefined }));
    const fromHandler = Object.fromEntries(Object.entries(answer.headers ?? {}).filter(([, v]) => v !== undefined));
    assert.deepEqual(headers, fromHandler);
  });
});
