// Bad requests for any route, derived from the manifest and the route's contract alone: a new route
// is fuzzed with no extra code. Every case is checked against the route's own schemas the way the
// middleware and gateway read it (`wellFormed`), and only cases the server must refuse are kept, so
// nothing valid (an OTP request, a message) is ever sent by mistake.
import fc from 'fast-check';
import * as z from 'zod/mini';
import { empty } from '../../contract/common.ts';
import type { Schema } from '../../contract/route.ts';
import type { HttpRoute, WsRoute } from '../../lib/routes.ts';
import { WS_MESSAGE_LIMIT } from '../../local/ws-gateway.ts';
import { invalidOf, invalidText, objectFaults, prototypeKeys, toJson, validOf, validText, withKey, withoutKey, type JsonSchema } from './arbitraries.ts';

export type AuthMode = 'valid' | 'none' | 'garbage';

export interface HttpCase {
  auth: AuthMode;
  /** The Authorization header sent in `garbage` mode. */
  garbage?: string;
  path: Record<string, string>;
  query: [string, string][];
  body?: { data: string | Buffer; contentType?: string };
  /** What was broken: path, query, body, transport:<kind>, several. */
  fault: string;
}

export function jsonSchemaOf(schema: Schema): JsonSchema {
  return z.toJSONSchema(schema as z.ZodMiniType, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/** The path parameters named in a route's path, e.g. ["userId"] for /api/users/{userId}/block. */
export function pathParams(route: Pick<HttpRoute, 'path'>): string[] {
  return [...route.path.matchAll(/\{(\w+)\+?\}/g)].map((m) => m[1]!);
}

// ---- the server's reading of a request (payload format 2.0, our middleware) -----------------------

/** The JSON content types the middleware accepts (docs/architecture.md: 415 for anything else). */
const jsonContentType = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Query parameters as API Gateway hands them over: own keys (even "__proto__"), duplicates joined by commas. */
export function gatewayQuery(pairs: readonly [string, string][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(pairs as [string, string][])) {
    const prev = Object.hasOwn(out, k) ? out[k] : undefined;
    Object.defineProperty(out, k, { value: prev === undefined ? v : `${prev},${v}`, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The path as sent: each parameter percent-encoded (lone surrogates cannot be, so they are made well-formed first). */
export function pathOf(route: Pick<HttpRoute, 'path'>, params: Record<string, string>): string {
  return route.path.replace(/\{(\w+)\+?\}/g, (_, name: string) => encodeURIComponent((params[name] ?? '').toWellFormed()));
}

export function urlOf(route: Pick<HttpRoute, 'path'>, c: Pick<HttpCase, 'path' | 'query'>): string {
  const qs = new URLSearchParams(c.query).toString();
  return pathOf(route, c.path) + (qs ? `?${qs}` : '');
}

const passes = (schema: Schema, value: unknown) => z.safeParse(schema as z.ZodMiniType, value).success;

/**
 * Would the middleware let this request through to the handler (body, then query, then path)? As
 * documented: no body (or, where none is taken, a blank body or `{}`) is no body; otherwise a JSON
 * content type, at most MAX_BODY_BYTES, valid JSON and the route's schema (or the empty object).
 */
export function wellFormed(route: HttpRoute, c: HttpCase, maxBodyBytes: number): boolean {
  const schema = route.input.body;
  const bytes = c.body ? Buffer.from(c.body.data) : Buffer.alloc(0);
  if (!(bytes.length === 0 && (!schema || passes(schema, undefined)))) {
    if (bytes.length > maxBodyBytes) return false;
    if (!jsonContentType.test(c.body?.contentType ?? '')) return false;
    const text = bytes.toString('utf8').trim() || (schema ? '' : '{}');
    if (!text) return false;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return false;
    }
    if (!passes(schema ?? empty, parsed)) return false;
  }
  if (!passes(route.input.query ?? empty, gatewayQuery(c.query))) return false;
  const path = Object.fromEntries(Object.entries(c.path).map(([k, v]) => [k, v.toWellFormed()]));
  return passes(route.input.path ?? empty, path);
}

// ---- the parts of a request, good and bad --------------------------------------------------------

/** Values the local gateway cannot route as one path segment (empty, or dot segments a URL parser folds). */
const routable = (v: string) => v !== '' && v !== '.' && v !== '..';

function pathArbs(route: HttpRoute) {
  const names = pathParams(route);
  const props = route.input.path ? (jsonSchemaOf(route.input.path).properties ?? {}) : {};
  const good = fc.record(Object.fromEntries(names.map((n) => [n, validText(props[n] ?? { type: 'string' }).filter(routable)])));
  const bad = names.length
    ? fc.oneof(
        ...names.map((n) => fc.tuple(good, invalidText(props[n] ?? { type: 'string', maxLength: 0 }).filter(routable)).map(([g, v]) => ({ ...g, [n]: v }))),
      )
    : undefined;
  return { good: good as fc.Arbitrary<Record<string, string>>, bad };
}

function queryArbs(route: HttpRoute) {
  const s = route.input.query ? jsonSchemaOf(route.input.query) : { type: 'object', properties: {}, additionalProperties: false };
  const props = s.properties ?? {};
  const required = s.required ?? [];
  const keys = Object.keys(props);
  const good: fc.Arbitrary<[string, string][]> = keys.length
    ? fc
        .tuple(
          ...keys.map((k) =>
            required.includes(k)
              ? validText(props[k]!).map((v) => [[k, v]])
              : fc.option(
                  validText(props[k]!).map((v) => [[k, v]]),
                  { nil: [] },
                ),
          ),
        )
        .map((parts) => (parts as [string, string][][]).flat())
    : fc.constant([]);
  const extraKey = fc.oneof(fc.constantFrom(...prototypeKeys, 'toString', 'limit[]', 'cursor ', 'LIMIT', ''), fc.string({ unit: 'binary', maxLength: 12 }));
  const faults: fc.Arbitrary<[string, string][]>[] = [
    fc.tuple(good, extraKey, fc.string({ unit: 'binary', maxLength: 12 })).map(([g, k, v]) => [...g, [k, v]]),
  ];
  if (keys.length) {
    faults.push(
      fc.oneof(...keys.map((k) => fc.tuple(good, invalidText(props[k]!)).map(([g, v]): [string, string][] => [...g.filter(([gk]) => gk !== k), [k, v]]))),
      // the same key twice: API Gateway joins the values with a comma
      fc.oneof(
        ...keys.map((k) =>
          fc.tuple(good, validText(props[k]!), validText(props[k]!)).map(([g, a, b]): [string, string][] => [...g.filter(([gk]) => gk !== k), [k, a], [k, b]]),
        ),
      ),
    );
  }
  if (required.length) faults.push(fc.tuple(good, fc.constantFrom(...required)).map(([g, k]) => g.filter(([gk]) => gk !== k)));
  return { good, bad: fc.oneof(...faults) };
}

const json = (v: unknown) => ({ data: toJson(v), contentType: 'application/json' });

function bodyArbs(route: HttpRoute, maxBodyBytes: number) {
  const s = route.input.body ? jsonSchemaOf(route.input.body) : undefined;
  const good = s ? validOf(s).map((v) => json(v) as HttpCase['body']) : fc.constant(undefined);
  const bad: fc.Arbitrary<HttpCase['body']> = s
    ? fc.oneof(invalidOf(s), ...(s.type === 'object' ? objectFaults(s) : [])).map(json)
    : fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant({ polluted: true })).map(json);
  const anyText = fc.oneof(
    good.map((b) => (b ? String(b.data) : '{}')),
    bad.map((b) => String(b!.data)),
  );
  type Transport = { fault: string; body: HttpCase['body'] };
  const transport = fc.oneof<fc.Arbitrary<Transport>[]>(
    // not JSON by its content type (browsers' form posts, XML, text), or no content type at all
    fc
      .tuple(
        anyText,
        fc.constantFrom(
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/xml',
          'text/json',
          'application/json-seq',
          'application/jsonx',
          'json',
        ),
      )
      .map(([data, contentType]) => ({ fault: 'transport:content-type', body: { data, contentType } })),
    anyText.map((data) => ({ fault: 'transport:no-content-type', body: { data: Buffer.from(data) } })),
    anyText.map((data) => ({ fault: 'transport:octet-stream', body: { data: Buffer.from(data), contentType: 'application/octet-stream' } })),
    // JSON it is not
    fc
      .oneof(
        fc.constantFrom('{', '{"a":}', "{'a':1}", '{a:1}', '[1,]', '{"a":1}x', 'NaN', 'undefined', '\uFEFF{}', '{"a":"\\x"}', ' ', '\n', '/* */{}', '\u0000'),
        anyText.map((t) => t.slice(0, Math.max(1, t.length - 1))),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
      )
      .map((data) => ({ fault: 'transport:invalid-json', body: { data, contentType: 'application/json; charset=utf-8' } })),
    // JSON, but not an object
    fc
      .constantFrom('null', '[]', '"x"', '0', 'true', '1e400', '[{}]')
      .map((data) => ({ fault: 'transport:not-an-object', body: { data, contentType: 'application/json' } })),
  );
  // one byte and more over the limit (rare: a quarter megabyte per case is the costliest case there is)
  const oversized = fc.integer({ min: 1, max: 4096 }).map((over): Transport => ({
    fault: 'transport:oversized',
    body: { data: `{"x":"${'A'.repeat(maxBodyBytes + over - 8)}"}`, contentType: 'application/json' },
  }));
  return { good, bad, transport: fc.oneof({ weight: 12, arbitrary: transport }, { weight: 1, arbitrary: oversized }) };
}

/** A token that is not one: malformed, wrong scheme, forged, or the refresh token in the access token's place. */
function garbageAuth(refreshToken: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      'Bearer',
      'Bearer ',
      'Basic dXNlcjpwYXNz',
      'bearer x.y.z',
      'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
      `Bearer ${refreshToken}`,
      'Token abc',
    ),
    fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((t) => `Bearer ${t}`),
    fc.base64String({ minLength: 10, maxLength: 200 }).map((t) => `Bearer ${t}.${t}.${t}`),
  );
}

/** Bad requests for one HTTP route; signed-in routes get a valid token most of the time (validation is what is fuzzed) and none or garbage otherwise. */
export function httpCases(route: HttpRoute, opts: { maxBodyBytes: number; refreshToken: string }): fc.Arbitrary<HttpCase> {
  const path = pathArbs(route);
  const query = queryArbs(route);
  const body = bodyArbs(route, opts.maxBodyBytes);
  type Parts = Omit<HttpCase, 'auth' | 'garbage'>;
  const cases: fc.WeightedArbitrary<Parts>[] = [
    { weight: 3, arbitrary: fc.tuple(path.good, query.bad, body.good).map(([p, q, b]) => ({ path: p, query: q, body: b, fault: 'query' })) },
    { weight: 4, arbitrary: fc.tuple(path.good, query.good, body.bad).map(([p, q, b]) => ({ path: p, query: q, body: b, fault: 'body' })) },
    { weight: 3, arbitrary: fc.tuple(path.good, query.good, body.transport).map(([p, q, t]) => ({ path: p, query: q, body: t.body, fault: t.fault })) },
    { weight: 1, arbitrary: fc.tuple(path.bad ?? path.good, query.bad, body.bad).map(([p, q, b]) => ({ path: p, query: q, body: b, fault: 'several' })) },
  ];
  if (path.bad)
    cases.push({ weight: 3, arbitrary: fc.tuple(path.bad, query.good, body.good).map(([p, q, b]) => ({ path: p, query: q, body: b, fault: 'path' })) });
  const auth: fc.Arbitrary<{ auth: AuthMode; garbage?: string }> =
    route.access === 'public'
      ? fc.constant({ auth: 'none' as const })
      : fc.oneof(
          { weight: 17, arbitrary: fc.constant({ auth: 'valid' as const }) },
          { weight: 2, arbitrary: fc.constant({ auth: 'none' as const }) },
          { weight: 1, arbitrary: garbageAuth(opts.refreshToken).map((garbage) => ({ auth: 'garbage' as const, garbage })) },
        );
  return fc
    .tuple(auth, fc.oneof(...cases))
    .map(([a, parts]) => ({ ...a, ...parts }) as HttpCase)
    .filter((c) => !wellFormed(route, c, opts.maxBodyBytes));
}

// ---- WebSocket frames -----------------------------------------------------------------------------

export interface WsCase {
  /** Text frame, or bytes sent as a binary frame. */
  frame: string | Buffer;
  fault: string;
}

/** Which route the gateway picks for a frame: a known action's, else $default. */
export function routeKeyOf(frame: string | Buffer, routeKeys: ReadonlySet<string>): string {
  if (typeof frame !== 'string') return '$default';
  try {
    const action = (JSON.parse(Buffer.from(frame, 'utf8').toString('utf8')) as { action?: unknown })?.action;
    if (typeof action === 'string' && !action.startsWith('$') && routeKeys.has(action)) return action;
  } catch {
    // not JSON: $default
  }
  return '$default';
}

/** Would the frame reach a handler that acts on it (a valid frame for its route, or a ping)? */
export function wellFormedFrame(frame: string | Buffer, routes: ReadonlyMap<string, WsRoute>): boolean {
  const key = routeKeyOf(frame, new Set(routes.keys()));
  const route = routes.get(key)!;
  const text = typeof frame === 'string' ? Buffer.from(frame, 'utf8').toString('utf8') : frame.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  if (!route.input || !passes(route.input, parsed)) return false;
  return key !== '$default' || (parsed as { action?: unknown }).action === 'ping';
}

/** Bad frames aimed at one message route (its action kept, so the gateway routes them there), or at $default. */
export function wsCases(route: WsRoute, routes: ReadonlyMap<string, WsRoute>): fc.Arbitrary<WsCase> {
  const s = route.input ? jsonSchemaOf(route.input) : { type: 'object' };
  const pinned = (v: unknown) =>
    route.routeKey !== '$default' && v && typeof v === 'object' && !Array.isArray(v)
      ? withKey(withoutKey(v as Record<string, unknown>, 'action'), 'action', route.routeKey)
      : v;
  const cases: fc.WeightedArbitrary<WsCase>[] = [
    // mostly with the route's action put back (a fault on `action` itself sends the frame to $default)
    { weight: 5, arbitrary: fc.oneof(...objectFaults(s)).map((v) => ({ frame: toJson(pinned(v)), fault: 'frame:field' })) },
    { weight: 1, arbitrary: fc.oneof(...objectFaults(s)).map((v) => ({ frame: toJson(v), fault: 'frame:field' })) },
    { weight: 2, arbitrary: invalidOf(s).map((v) => ({ frame: toJson(pinned(v)), fault: 'frame:value' })) },
    { weight: 1, arbitrary: fc.constantFrom('{', 'null', '[]', '"x"', '{"action":', '\uFEFF{}', '').map((frame) => ({ frame, fault: 'frame:not-json' })) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map((t) => ({ frame: Buffer.from(t), fault: 'frame:binary' })) },
  ];
  if (route.routeKey === '$default') {
    cases.push({
      weight: 3,
      arbitrary: fc
        .oneof(
          fc.constantFrom('$connect', '$disconnect', '$default', 'PING', 'ping ', 'sendmessage', '__proto__', 'constructor'),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }),
        )
        .map((action) => ({ frame: toJson({ action }), fault: 'frame:unknown-action' })),
    });
  }
  // Over the gateway's 128 KB a frame never reaches a handler: API Gateway (and the local one) closes the socket with 1009.
  return fc.oneof(...cases).filter((c) => Buffer.byteLength(c.frame) <= WS_MESSAGE_LIMIT && !wellFormedFrame(c.frame, routes));
}
