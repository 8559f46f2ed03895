// The SDK's errors, timeouts and typed calls: the error-code union covers every code the server sends
// (scanned from functions/), the route table is the manifest's, a non-JSON body or a dead server
// becomes a clear error (never a SyntaxError), 429 is RateLimited with its Retry-After, a slow answer
// a TimeoutError, and cookie mode refreshes through the server's HttpOnly cookie.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { errorCodesModule, formatted as formattedCodes, scanServerErrorCodes } from '../client/scripts/error-codes.ts';
import { formatted as formattedRoutes, routesModule } from '../client/scripts/routes.ts';
import { API_ERROR_CODES, ApiError, NetworkError, NexChatClient, RateLimited, SessionExpired, TimeoutError, routeTable, type Tokens } from '../client/index.ts';
import { httpRoutes } from '../lib/routes.ts';
import type { Runtime } from '../local/runtime.ts';
import { startTestRuntime } from './support/runtime.ts';
import { lastCode, uniqueEmail } from './support/identity.ts';

const file = (path: string) => new URL(`../${path}`, import.meta.url).pathname;

describe('the SDK knows every error code the server sends', () => {
  test('every code thrown or framed in functions/ is in API_ERROR_CODES, and nothing else', () => {
    const { codes, unresolved } = scanServerErrorCodes();
    assert.deepEqual(unresolved, [], 'a code the scanner cannot read: make it a literal, or list it in resolvedByHand (client/scripts/error-codes.ts)');
    assert.ok(codes.length > 60, `the scan finds the codes (${codes.length})`);
    const missing = codes.filter((c) => !(API_ERROR_CODES as readonly string[]).includes(c));
    assert.deepEqual(missing, [], 'server codes missing from the SDK: run `node client/scripts/error-codes.ts --write`');
    const stale = API_ERROR_CODES.filter((c) => !codes.includes(c));
    assert.deepEqual(stale, [], 'codes the server no longer sends: run `node client/scripts/error-codes.ts --write`');
  });

  test('client/src/error-codes.ts is what the generator writes', async () => {
    const path = file('client/src/error-codes.ts');
    assert.equal(readFileSync(path, 'utf8'), await formattedCodes(errorCodesModule(scanServerErrorCodes().codes), path));
  });

  test('the scanner sees codes in every form the server writes them', () => {
    const { codes } = scanServerErrorCodes();
    for (const c of ['members_changed', 'account_deleted', 'already_banned', 'throttled', 'internal', 'validation_failed', 'rate_limited', 'device_revoked'])
      assert.ok(codes.includes(c), c);
    for (const fieldIssue of ['password_too_common', 'bad_base64', 'required'])
      assert.ok(!codes.includes(fieldIssue), `${fieldIssue} is a field issue, not an error code`);
  });
});

describe('the route table', () => {
  test('client/src/routes.ts is what the generator writes from lib/routes.ts', async () => {
    const path = file('client/src/routes.ts');
    assert.equal(readFileSync(path, 'utf8'), await formattedRoutes(await routesModule(), path), 'run `node client/scripts/routes.ts --write`');
  });

  test('every HTTP route of the manifest, with its method and path', () => {
    const table = routeTable as Record<string, { method: string; path: string }>;
    assert.deepEqual(Object.keys(table).sort(), httpRoutes.map((r) => r.id).sort());
    for (const r of httpRoutes) assert.deepEqual([table[r.id]!.method, table[r.id]!.path], [r.method, r.path], r.id);
  });

  test('the SDK source imports no zod and no lib/ at runtime (type-only imports)', () => {
    const routes = readFileSync(file('client/src/routes.ts'), 'utf8');
    assert.ok(!/^import (?!type )/m.test(routes), 'routes.ts has only type imports');
    assert.ok(!/from '(?:zod|.*lib\/routes)/.test(routes.replace(/^import type .*$/gm, '')));
  });
});

/** A fetch that answers from `reply` and records every request. */
function fakeFetch(reply: (url: URL, init: RequestInit) => Response | Promise<Response>) {
  const seen: { url: URL; init: RequestInit }[] = [];
  const f: typeof fetch = async (input, init = {}) => {
    const url = new URL(String(input));
    seen.push({ url, init });
    return reply(url, init);
  };
  return { f, seen };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('typed call() and error classes (injected fetch)', () => {
  const base = { baseUrl: 'http://api.test', wsUrl: 'ws://api.test' };

  test('path parameters are substituted and encoded; the query is built from defined values; a missing parameter is a TypeError', async () => {
    const { f, seen } = fakeFetch(() => json(200, { messages: [], cursor: 'c', hasMore: false }));
    const client = new NexChatClient({ ...base, fetch: f, tokens: { accessToken: 'a.b.c', refreshToken: 'r' } });
    await client.call('RemoveGroupMember', { path: { conversationId: 'g/1 ?#', userId: 'u&2' } });
    assert.equal(seen[0]!.url.pathname, '/api/groups/g%2F1%20%3F%23/members/u%262');
    assert.equal(seen[0]!.init.method, 'DELETE');
    await client.call('SyncMessages', { query: { after: 'A1', limit: 5 } });
    assert.equal(seen[1]!.url.search, '?after=A1&limit=5');
    await client.call('SyncMessages', { query: { after: undefined } });
    assert.equal(seen[2]!.url.search, '');
    assert.throws(() => client.call('GetGroup', { path: { conversationId: '' } }), TypeError);
  });

  test("a gateway's HTML 502 is an ApiError that says what came back, never a SyntaxError", async () => {
    const { f } = fakeFetch(
      () => new Response('<html><body>502 Bad Gateway</body></html>', { status: 502, statusText: 'Bad Gateway', headers: { 'content-type': 'text/html' } }),
    );
    const client = new NexChatClient({ ...base, fetch: f });
    const error = await client.call('GetHealth', {}).catch((e: unknown) => e);
    assert.ok(error instanceof ApiError && !(error instanceof SyntaxError), String(error));
    assert.equal(error.code, 'http_error');
    assert.equal(error.status, 502);
    assert.match(error.message, /GET \/api\/health answered 502 Bad Gateway with a body that is not JSON \(text\/html\)/);
  });

  test("API Gateway's own `{ message }` errors keep their message", async () => {
    const { f } = fakeFetch(() => json(404, { message: 'Not Found' }));
    const error = await new NexChatClient({ ...base, fetch: f }).call('GetHealth', {}).catch((e: unknown) => e);
    assert.ok(error instanceof ApiError);
    assert.deepEqual([error.status, error.code, error.message], [404, 'http_error', 'Not Found']);
  });

  test('429 is RateLimited with Retry-After in seconds (or an HTTP date), else the body’s retryAfterSeconds', async () => {
    let headers: Record<string, string> = { 'retry-after': '7' };
    const { f } = fakeFetch(() =>
      json(429, { error: { code: 'rate_limited', message: 'Too many', details: { limited: 'x', retryAfterSeconds: 3 } } }, headers),
    );
    const client = new NexChatClient({ ...base, fetch: f });
    let error = await client.call('GetHealth', {}).catch((e: unknown) => e);
    assert.ok(error instanceof RateLimited && error instanceof ApiError);
    assert.deepEqual([error.status, error.code, error.retryAfterSeconds], [429, 'rate_limited', 7]);
    headers = { 'retry-after': new Date(Date.now() + 30_000).toUTCString() };
    error = await client.call('GetHealth', {}).catch((e: unknown) => e);
    assert.ok(error instanceof RateLimited && error.retryAfterSeconds >= 29 && error.retryAfterSeconds <= 31, String((error as RateLimited).retryAfterSeconds));
    headers = {};
    error = await client.call('GetHealth', {}).catch((e: unknown) => e);
    assert.ok(error instanceof RateLimited && error.retryAfterSeconds === 3);
  });

  test('a fetch that fails is a NetworkError; one that hangs is a TimeoutError after timeoutMs; the caller’s abort wins with its reason', async () => {
    const down = new NexChatClient({ ...base, fetch: fakeFetch(() => Promise.reject(new TypeError('fetch failed'))).f });
    const error = await down.call('GetHealth', {}).catch((e: unknown) => e);
    assert.ok(error instanceof NetworkError && error.status === 0 && error.code === 'network_error', String(error));
    assert.match(error.message, /did not reach the server: fetch failed/);

    const hang: typeof fetch = (_input, init) =>
      new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    const slow = new NexChatClient({ ...base, fetch: hang, timeoutMs: 50 });
    const started = Date.now();
    const timedOut = await slow.call('GetHealth', {}).catch((e: unknown) => e);
    assert.ok(timedOut instanceof TimeoutError && timedOut.timeoutMs === 50, String(timedOut));
    assert.ok(Date.now() - started < 2000);
    const perCall = await slow.call('GetHealth', {}, { timeoutMs: 20 }).catch((e: unknown) => e);
    assert.ok(perCall instanceof TimeoutError && perCall.timeoutMs === 20);

    const controller = new AbortController();
    const pending = slow.call('GetHealth', {}, { signal: controller.signal, timeoutMs: 10_000 });
    controller.abort(new Error('user went away'));
    await assert.rejects(pending, /user went away/);
    await assert.rejects(slow.call('GetHealth', {}, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  });

  test('timeoutMs is checked at construction', () => {
    assert.throws(() => new NexChatClient({ ...base, timeoutMs: -1 }), RangeError);
  });
});

describe('against the local runtime', () => {
  let rt: Runtime;
  before(async () => {
    rt = await startTestRuntime();
  });
  after(async () => rt?.stop());

  test('a server that is not there is a NetworkError', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const error = await new NexChatClient({ baseUrl: `http://127.0.0.1:${port}`, wsUrl: 'ws://127.0.0.1:1' }).call('GetHealth', {}).catch((e: unknown) => e);
    assert.ok(error instanceof NetworkError, String(error));
  });

  test('typed calls reach the real routes: register, GetMe, a 404 with its code', async () => {
    const client = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl });
    const email = uniqueEmail('typed');
    await client.call('RequestOtp', { body: { channel: 'email', destination: email, purpose: 'register' } });
    await client.register({ email, displayName: 'Typed', password: 'typed-call-secret-1', code: await lastCode(rt, email, 'register') });
    const me = await client.call('GetMe', {});
    assert.equal(me.user.displayName, 'Typed');
    const missing = await client.call('GetGroup', { path: { conversationId: `gr_${'0'.repeat(32)}` } }).catch((e: unknown) => e);
    assert.ok(missing instanceof ApiError && missing.status === 404, String(missing));
  });

  /**
   * What a browser does with `credentials: 'include'`: keeps the Set-Cookie of /api/auth answers and
   * sends it back to /api/auth (the cookie's Path). Node's fetch has no cookie jar.
   */
  function browserLikeFetch() {
    const jar = new Map<string, string>();
    const seen: { path: string; credentials: RequestInit['credentials']; body: string | undefined }[] = [];
    const f: typeof fetch = async (input, init = {}) => {
      const url = new URL(String(input));
      seen.push({ path: url.pathname, credentials: init.credentials, body: typeof init.body === 'string' ? init.body : undefined });
      const headers = new Headers(init.headers);
      if (init.credentials === 'include' && url.pathname.startsWith('/api/auth') && jar.size)
        headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
      const res = await fetch(url, { ...init, headers });
      if (init.credentials === 'include') {
        for (const line of res.headers.getSetCookie()) {
          const [pair] = line.split(';');
          const i = pair!.indexOf('=');
          const [name, value] = [pair!.slice(0, i), pair!.slice(i + 1)];
          if (/Max-Age=0/i.test(line) || !value) jar.delete(name);
          else jar.set(name, value);
        }
      }
      return res;
    };
    return { f, jar, seen };
  }

  test('cookie mode: no refresh token in JavaScript; an expired access token refreshes through the cookie; resume() after a reload; logout ends it', async () => {
    const { f, jar, seen } = browserLikeFetch();
    const saved: (Tokens | null)[] = [];
    const client = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl, fetch: f, auth: 'cookie', onTokens: (t) => saved.push(t) });
    const email = uniqueEmail('cookie');
    await client.requestOtp('email', email, 'register');
    await client.register({ email, displayName: 'Cookie', password: 'cookie-mode-secret-1', code: await lastCode(rt, email, 'register') });
    assert.equal(saved.at(-1)!.refreshToken, undefined, 'the SDK keeps no refresh token');
    assert.ok(jar.size === 1, 'the server set the refresh cookie');
    assert.ok(seen.every((s) => s.credentials === 'include'));

    // a reload: a new client with nothing but the cookie
    const reloaded = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl, fetch: f, auth: 'cookie' });
    assert.equal(reloaded.signedIn, false);
    assert.equal((await reloaded.call('GetMe', {})).user.displayName, 'Cookie', 'the first call refreshes from the cookie (401 missing_token)');
    const refresh = seen.filter((s) => s.path === '/api/auth/refresh');
    assert.equal(refresh.length, 1);
    assert.equal(refresh[0]!.body, undefined, 'the refresh sends no token: the cookie carries it');

    // a stale access token (the cookie rotated under the first client): 401 invalid_token → refresh → retry
    const stale = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl, fetch: f, auth: 'cookie', tokens: { accessToken: 'x.eyJzdWIiOiJ4In0.y' } });
    assert.equal((await stale.call('GetMe', {})).user.displayName, 'Cookie');

    const third = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl, fetch: f, auth: 'cookie' });
    assert.equal(await third.resume(), true);
    await third.logout();
    assert.equal(jar.size, 0, 'logout clears the cookie');
    const after = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl, fetch: f, auth: 'cookie' });
    assert.equal(await after.resume(), false);
    await assert.rejects(after.call('GetMe', {}), SessionExpired);
  });
});
