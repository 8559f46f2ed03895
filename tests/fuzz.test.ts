// Manifest-driven fuzzing: every HTTP route, every WebSocket message route and $connect get bad
// input generated from their own contract schemas (fast-check; tests/fuzz/cases.ts), signed in where
// the route wants it so validation, not authentication, is what answers (and also without a valid
// token: 401). Every answer must be a 4xx with the error body and the security headers, never a 5xx
// or a success, and no table may change (rate-limit counters excepted: they count bad requests too).
// `npm test` runs FUZZ_RUNS=100 cases per route; `npm run fuzz` runs 1,000 and prints the totals.
// A failure prints the seed: FUZZ_SEED=<seed> FUZZ_ROUTE=<route id> reruns exactly that stream.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { Runtime } from '../local/runtime.ts';
import { httpRoutes, httpRouteKey, wsRoutes, type HttpRoute, type WsRoute } from '../lib/routes.ts';
import { openSocket, startTestRuntime, type TestSocket } from './support/runtime.ts';
import { connectAs, signUp, type Account } from './support/identity.ts';
import { httpCases, urlOf, wsCases, type HttpCase, type WsCase } from './fuzz/cases.ts';
import { errorAnswerProblem, grantRole, isGatewayAnswer, seedFor, send, showChanges, snapshot, snapshotDiff } from './fuzz/harness.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const SEED = Number(process.env.FUZZ_SEED ?? 9009);
/** Routes fuzzed side by side (each route's cases run in order, so its seed replays exactly). */
const WIDTH = Number(process.env.FUZZ_WIDTH ?? 6);
const ONLY = process.env.FUZZ_ROUTE;
/** The middleware's body limit (MAX_BODY_BYTES default): oversized cases go one byte and more past it. */
const MAX_BODY_BYTES = 256 * 1024;

const only = <R extends { id: string }>(rs: readonly R[]) => rs.filter((r) => !ONLY || r.id === ONLY);
const fuzzedHttp = only(httpRoutes);
/** Message routes ($connect is fuzzed by its query string below; $disconnect takes no input). */
const fuzzedWs = only(wsRoutes.filter((r) => r.routeKey !== '$connect' && r.routeKey !== '$disconnect'));
const wsByKey = new Map<string, WsRoute>(wsRoutes.filter((r) => r.routeKey !== '$connect' && r.routeKey !== '$disconnect').map((r) => [r.routeKey, r]));

let rt: Runtime;
let user: Account;
let admin: Account;
const sockets = new Map<string, TestSocket>();
let baseline: Record<string, string[]>;
/** Answers seen, per route: HTTP status (or "gateway 429"), WebSocket error code. */
const seen = new Map<string, Map<string, number>>();

function count(route: string, what: string): void {
  const m = seen.get(route) ?? new Map<string, number>();
  m.set(what, (m.get(what) ?? 0) + 1);
  seen.set(route, m);
}

before(async () => {
  // Gateway throttles scaled well past the case rate, and testEnv's raised per-user limits: the
  // fuzz should meet validation, not 429s (any 429 is counted apart).
  rt = await startTestRuntime({}, { throttleScale: 1000 });
  [user, admin] = await Promise.all([signUp(rt, { displayName: 'Fuzz Member' }), signUp(rt, { displayName: 'Fuzz Operator' })]);
  await grantRole(admin, 'admin');
  // One socket per message route, opened before the baseline (a connection row is a legitimate write).
  for (const r of fuzzedWs) sockets.set(r.routeKey, await connectAs(rt, user.accessToken));
  baseline = await snapshot(rt);
});

after(async () => {
  await Promise.all([...sockets.values()].map((s) => s.close().catch(() => undefined)));
  await rt?.stop();
});

/** Replays one failure: the route, the seed and the case as sent. */
function describeCase(route: HttpRoute, c: HttpCase): string {
  const body = c.body ? (typeof c.body.data === 'string' ? c.body.data : `<bytes ${c.body.data.toString('base64')}>`) : '';
  return `${route.method} ${urlOf(route, c)} auth=${c.auth} content-type=${c.body?.contentType ?? '-'} fault=${c.fault}\nbody: ${body.slice(0, 500)}`;
}

async function runHttpCase(route: HttpRoute, c: HttpCase): Promise<void> {
  const headers: Record<string, string> = {};
  if (c.auth === 'valid') headers.authorization = `Bearer ${route.access === 'moderator' || route.access === 'admin' ? admin.accessToken : user.accessToken}`;
  if (c.auth === 'garbage') headers.authorization = c.garbage!;
  if (c.body?.contentType) headers['content-type'] = c.body.contentType;
  const r = await send(rt.httpUrl, route.method, urlOf(route, c), headers, c.body?.data);
  if (r.status === 429 && isGatewayAnswer(r)) return count(route.id, 'gateway 429');
  count(route.id, String(r.status));
  const problem = errorAnswerProblem(r);
  const fail = (why: string) => {
    throw new Error(`${httpRouteKey(route)}: ${why}\n${describeCase(route, c)}\nanswer ${r.status}: ${r.text.slice(0, 300)}`);
  };
  if (problem) fail(problem);
  if (route.access !== 'public' && c.auth === 'valid' && (r.status === 401 || r.status === 403))
    fail('a valid token was refused: the fuzz must reach validation');
  if (route.access !== 'public' && c.auth !== 'valid' && r.status !== 401) fail('no valid token, yet not 401');
}

async function fuzz<T>(name: string, arb: fc.Arbitrary<T>, run: (c: T) => Promise<void>): Promise<void> {
  const seed = seedFor(SEED, name);
  try {
    await fc.assert(
      fc.asyncProperty(arb, run),
      // A request that gets through changes the server (a logout ends the token every later case uses),
      // so shrinking would chase that damage: report the first failing case as sent (FUZZ_SHRINK=1 shrinks).
      { numRuns: RUNS, seed, endOnFailure: process.env.FUZZ_SHRINK !== '1' },
    );
  } catch (error) {
    throw new Error(`fuzz of ${name} failed; replay with FUZZ_SEED=${SEED} FUZZ_ROUTE=${name} (route seed ${seed})\n${(error as Error).message}`, {
      cause: error,
    });
  }
}

describe('every HTTP route refuses bad input with a 4xx error body and security headers', { concurrency: WIDTH }, () => {
  for (const route of fuzzedHttp) {
    test(`${httpRouteKey(route)} (${route.access})`, async () => {
      const arb = httpCases(route, { maxBodyBytes: MAX_BODY_BYTES, refreshToken: user.refreshToken });
      await fuzz(route.id, arb, (c) => runHttpCase(route, c));
      const total = [...(seen.get(route.id)?.values() ?? [])].reduce((a, b) => a + b, 0);
      assert.ok(total >= RUNS, `${route.id}: ${total} cases sent, at least ${RUNS} wanted`);
    });
  }
});

test('no refused HTTP request wrote anything (rate-limit counters excepted)', async () => {
  assert.deepEqual(showChanges(snapshotDiff(baseline, await snapshot(rt))), []);
});

async function runWsCase(route: WsRoute, c: WsCase): Promise<void> {
  const s = sockets.get(route.routeKey)!;
  if (typeof c.frame === 'string') s.ws.send(c.frame);
  else s.ws.send(c.frame, { binary: true });
  const answer = await s.next(() => true, 5000);
  const fail = (why: string) => {
    const shown = typeof c.frame === 'string' ? c.frame.slice(0, 500) : `<binary ${c.frame.toString('base64').slice(0, 500)}>`;
    throw new Error(`${route.routeKey}: ${why}\nframe (${c.fault}): ${shown}\nanswer: ${JSON.stringify(answer).slice(0, 300)}`);
  };
  if (answer && typeof answer.message === 'string' && answer.type === undefined) {
    if (answer.message === 'Too Many Requests') return count(route.id, 'gateway 429');
    fail('the gateway answered (the handler failed)');
  }
  count(route.id, `error:${answer?.code}`);
  if (answer?.type !== 'error') fail('not an error frame');
  if (typeof answer.code !== 'string' || !answer.code || typeof answer.message !== 'string') fail('error frame shape');
  const extra = Object.keys(answer).filter((k) => !['type', 'code', 'message', 'details', 'action', 'clientMessageId'].includes(k));
  if (extra.length) fail(`error frame has keys ${JSON.stringify(extra)}`);
  // what an error frame repeats of the frame it answers is well formed, never arbitrary input reflected back
  if (answer.action !== undefined && !/^[A-Za-z]{1,32}$/.test(answer.action)) fail('error frame echoes a malformed action');
  if (answer.clientMessageId !== undefined && !/^[A-Za-z0-9_-]{8,64}$/.test(answer.clientMessageId)) fail('error frame echoes a malformed clientMessageId');
  if (answer.code === 'internal') fail('an internal error');
  if (answer.code === 'token_revoked' || answer.code === 'not_signed_in') fail('the session died: the fuzz must reach validation');
}

describe('every WebSocket message route answers bad frames with an error frame', { concurrency: WIDTH }, () => {
  for (const route of fuzzedWs) {
    test(`${route.routeKey} (${route.access})`, async () => {
      await fuzz(route.id, wsCases(route, wsByKey), (c) => runWsCase(route, c));
    });
  }
});

// Skipped only when FUZZ_ROUTE replays a counterexample for another route (see the top of this file).
test('$connect refuses bad and unknown tickets with a 4xx', { skip: ONLY !== undefined && ONLY !== 'WsConnect' }, async () => {
  const ticketQuery = fc.oneof(
    fc.constant(''),
    fc.string({ unit: 'binary', maxLength: 200 }).map((t) => `ticket=${encodeURIComponent(t.toWellFormed())}`),
    fc.base64String({ minLength: 1, maxLength: 200 }).map((t) => `ticket=${encodeURIComponent(t)}`),
    fc.constantFrom('ticket=', 'ticket=%00', 'Ticket=abc', 'ticket=a&ticket=b', '__proto__=x&ticket=abc', 'token=abc', `ticket=${'a'.repeat(129)}`),
  );
  await fuzz('WsConnect', ticketQuery, async (qs) => {
    let status: number | undefined;
    try {
      const s = await openSocket(`${rt.wsUrl}/?${qs}`);
      await s.close();
    } catch (error) {
      status = (error as { status?: number }).status;
    }
    count('WsConnect', String(status ?? 'opened'));
    assert.ok(status !== undefined && status >= 400 && status < 500, `$connect ?${qs} answered ${status ?? 'by opening the socket'}`);
  });
});

test('no refused frame or connection wrote anything (rate-limit counters excepted)', async () => {
  assert.deepEqual(showChanges(snapshotDiff(baseline, await snapshot(rt))), []);
});

test('totals by route and answer', (t) => {
  const totals = new Map<string, number>();
  let cases = 0;
  for (const [route, m] of [...seen].sort(([a], [b]) => a.localeCompare(b))) {
    const n = [...m.values()].reduce((a, b) => a + b, 0);
    cases += n;
    for (const [what, k] of m) totals.set(what, (totals.get(what) ?? 0) + k);
    const parts = [...m].sort(([a], [b]) => a.localeCompare(b)).map(([what, k]) => `${what}×${k}`);
    t.diagnostic(`${route}: ${n} cases: ${parts.join(' ')}`);
  }
  const parts = [...totals].sort(([a], [b]) => a.localeCompare(b)).map(([what, k]) => `${what}×${k}`);
  t.diagnostic(`all: ${cases} cases over ${seen.size} routes (seed ${SEED}, ${RUNS} runs per route): ${parts.join(' ')}`);
  assert.ok(seen.size > 0);
});
