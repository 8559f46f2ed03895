// The examples in the API documents are declared next to the contract (contract/<area>/examples.ts)
// and parsed here with the very schemas the handlers use, so they cannot drift: every route has
// them, every request example is accepted, every answer is exactly what the server would send
// (parsing it changes nothing), and no Lambda code imports them (they stay out of the bundles).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import * as z from 'zod/mini';
import { errorBody } from '../contract/common.ts';
import { commonErrors, type ErrorExample } from '../contract/examples.ts';
import type { Schema } from '../contract/route.ts';
import { pushFrames } from '../contract/realtime/frames.ts';
import { asyncApiDocument, httpExamplesById, openApiDocument, pushFrameExamples, wsExamplesById } from '../lib/api-docs.ts';
import { httpRoutes, wsRoutes } from '../lib/routes.ts';

const root = join(import.meta.dirname, '..');

/** A request example: the route accepts it. */
function accepts(schema: Schema, value: unknown, where: string): void {
  const result = z.safeParse(schema, value);
  assert.ok(result.success, `${where} is refused: ${result.success ? '' : JSON.stringify(result.error.issues)}`);
}

/** An answer example: valid, and parsing it (as every response is, on its way out) leaves it unchanged. */
function sendsAsIs(schema: Schema, value: unknown, where: string): void {
  const result = z.safeParse(schema, value);
  assert.ok(result.success, `${where} does not match its schema: ${result.success ? '' : JSON.stringify(result.error.issues)}`);
  assert.deepEqual(result.data, value, `${where}: the server would send something else (a key its schema does not name?)`);
}

function checkErrors(errors: Readonly<Record<string, ErrorExample>>, where: string): void {
  for (const [name, e] of Object.entries(errors)) {
    assert.ok(e.status >= 400 && e.status <= 599 && e.status !== 429, `${where} ${name}: status ${e.status} (429 has its own response)`);
    assert.match(e.body.error.code, /^[a-z]+(?:_[a-z]+)*$/, `${where} ${name}: codes are snake_case`);
    sendsAsIs(errorBody, e.body, `${where} error ${name}`);
  }
}

describe('HTTP examples', () => {
  test('every route has examples, and every example names a route', () => {
    assert.deepEqual(
      httpRoutes.filter((r) => !httpExamplesById.has(r.id)).map((r) => r.id),
      [],
      'routes without examples',
    );
    const ids = new Set(httpRoutes.map((r) => r.id));
    assert.deepEqual(
      [...httpExamplesById.keys()].filter((id) => !ids.has(id)),
      [],
      'examples of no route',
    );
  });

  for (const route of httpRoutes) {
    test(route.id, () => {
      const ex = httpExamplesById.get(route.id);
      assert.ok(ex, 'examples');
      assert.equal(ex.contract.path, route.path);
      assert.equal(ex.contract.method, route.method);
      for (const where of ['path', 'query'] as const) {
        const schema = route.input[where];
        assert.equal(ex[where] !== undefined, schema !== undefined, `${where} example given exactly when the route takes ${where} parameters`);
        if (schema) accepts(schema, ex[where], `${where} example`);
      }
      const bodies = Object.entries(ex.bodies ?? {});
      if (route.input.body) {
        assert.ok(bodies.length > 0, 'a route that takes a body has a body example');
        for (const [name, body] of bodies) accepts(route.input.body, body, `body example ${name}`);
      } else {
        assert.equal(bodies.length, 0, 'a route without a body has no body example');
      }
      const declared = Object.keys(route.output).sort();
      assert.deepEqual(Object.keys(ex.responses).sort(), declared, 'one answer example per declared status');
      for (const [status, schema] of Object.entries(route.output)) {
        const value: unknown = (ex.responses as Record<string, unknown>)[status];
        if (schema) sendsAsIs(schema, value, `${status} example`);
        else assert.equal(value, null, `${status} has no body`);
      }
      checkErrors({ ...ex.errors, ...commonErrors(route.access) }, route.id);
    });
  }

  test('the OpenAPI document shows an example wherever there is a body or a path parameter', () => {
    type Media = { example?: unknown; examples?: Record<string, unknown> };
    type Operation = {
      operationId: string;
      parameters: { in: string; name: string; example?: unknown }[];
      requestBody?: { content: Record<string, Media> };
      responses: Record<string, { content?: Record<string, Media> }>;
    };
    const doc = openApiDocument() as unknown as { paths: Record<string, Record<string, Operation>> };
    const has = (m: Media) => m.example !== undefined || Object.keys(m.examples ?? {}).length > 0;
    const missing: string[] = [];
    for (const op of Object.values(doc.paths).flatMap((p) => Object.values(p))) {
      for (const p of op.parameters) if (p.in === 'path' && p.example === undefined) missing.push(`${op.operationId} path ${p.name}`);
      for (const m of Object.values(op.requestBody?.content ?? {})) if (!has(m)) missing.push(`${op.operationId} request body`);
      for (const [status, r] of Object.entries(op.responses)) {
        for (const m of Object.values(r.content ?? {})) if (!has(m)) missing.push(`${op.operationId} ${status}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});

describe('WebSocket examples', () => {
  test('every route has examples, and every example names a route', () => {
    assert.deepEqual(
      wsRoutes.filter((r) => !wsExamplesById.has(r.id)).map((r) => r.id),
      [],
    );
    const ids = new Set(wsRoutes.map((r) => r.id));
    assert.deepEqual(
      [...wsExamplesById.keys()].filter((id) => !ids.has(id)),
      [],
    );
  });

  for (const route of wsRoutes) {
    test(route.id, () => {
      const ex = wsExamplesById.get(route.id);
      assert.ok(ex, 'examples');
      assert.equal(ex.contract.routeKey, route.routeKey);
      const requests = Object.entries(ex.requests ?? {});
      assert.equal(requests.length > 0, route.input !== undefined, 'request examples given exactly when the route takes input');
      for (const [name, frame] of requests) accepts(route.input!, frame, `request ${name}`);
      assert.deepEqual(Object.keys(ex.replies).sort(), Object.keys(route.output).sort(), 'one example per reply type');
      for (const [type, schema] of Object.entries(route.output)) sendsAsIs(schema, (ex.replies as Record<string, unknown>)[type], `${type} reply`);
    });
  }

  test('every pushed frame type has examples, each exactly as sent', () => {
    assert.deepEqual(Object.keys(pushFrameExamples).sort(), Object.keys(pushFrames).sort());
    for (const [type, examples] of Object.entries(pushFrameExamples)) {
      assert.ok(examples.length > 0, type);
      for (const frame of examples) sendsAsIs(pushFrames[type as keyof typeof pushFrames], frame, `push ${type}`);
    }
  });

  test('every message of the AsyncAPI document has examples', () => {
    const doc = asyncApiDocument() as { channels: Record<string, { messages: Record<string, { examples?: unknown[] }> }> };
    const missing = Object.entries(doc.channels).flatMap(([channel, c]) =>
      Object.entries(c.messages)
        .filter(([, m]) => !m.examples?.length)
        .map(([name]) => `${channel}/${name}`),
    );
    assert.deepEqual(missing, []);
  });
});

test('no Lambda, gateway or SDK code imports an examples module (they stay out of the bundles)', () => {
  const importsExamples = /from '[^']*(?:\/examples\.ts|#contract\/examples\.ts|#contract\/[^/']+\/examples\.ts)'/;
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'node_modules') walk(path);
      } else if (name.endsWith('.ts') && importsExamples.test(readFileSync(path, 'utf8'))) {
        offenders.push(relative(root, path));
      }
    }
  };
  for (const dir of ['functions', 'local', 'client']) walk(join(root, dir));
  // within contract/, only examples modules import examples modules
  for (const area of readdirSync(join(root, 'contract'))) {
    const dir = join(root, 'contract', area);
    if (!statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir)) {
      if (name !== 'examples.ts' && importsExamples.test(readFileSync(join(dir, name), 'utf8'))) offenders.push(`contract/${area}/${name}`);
    }
  }
  assert.deepEqual(offenders, []);
});
