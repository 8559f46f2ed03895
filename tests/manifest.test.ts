// The route manifest is the one source for CDK, the local gateway and the API documents: these tests
// keep it well-formed and keep the generated documents in step with it.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { allRoutes, httpRouteKey, httpRoutes, wsRoutes } from '../lib/routes.ts';
import { tables } from '../lib/tables.ts';
import { renderedDocs, openApiDocument, asyncApiDocument } from '../lib/api-docs.ts';
import { projectRoot } from '../local/lambda.ts';

describe('route manifest', () => {
  test('ids, HTTP route keys and WebSocket route keys are unique', () => {
    const unique = (xs: string[]) => assert.equal(new Set(xs).size, xs.length, xs.join(', '));
    unique(allRoutes.map((r) => r.id));
    unique(httpRoutes.map(httpRouteKey));
    unique(wsRoutes.map((r) => r.routeKey));
  });

  test('the WebSocket API has $connect, $disconnect and $default', () => {
    const keys = wsRoutes.map((r) => r.routeKey);
    for (const k of ['$connect', '$disconnect', '$default']) assert.ok(keys.includes(k), k);
  });

  test('every route names an existing handler file exporting `handler`', async () => {
    for (const r of allRoutes) {
      const file = join(projectRoot, r.handler);
      assert.ok(existsSync(file), `${r.id}: ${r.handler} missing`);
      assert.match(r.handler, /^functions\/(http\/[a-z-]+|ws)\/[a-z-]+\.ts$/, `${r.id}: handler path follows the layout`);
      const mod = await import(pathToFileURL(file).href);
      assert.equal(typeof mod.handler, 'function', `${r.id} exports handler`);
    }
  });

  test('grants name real tables, throttles are sane, paths are API Gateway paths', () => {
    const ids = new Set(tables.map((t) => t.id));
    for (const r of allRoutes) {
      for (const t of Object.keys(r.tables)) assert.ok(ids.has(t as never), `${r.id} grants unknown table ${t}`);
      assert.ok(r.throttle.rate > 0 && r.throttle.burst >= r.throttle.rate / 10, `${r.id} throttle`);
    }
    for (const r of httpRoutes) assert.match(r.path, /^\/api(\/([a-z0-9-]+|\{[a-zA-Z]+\}))+$/, r.path);
  });

  test('routes with path parameters validate every one of them', () => {
    for (const r of httpRoutes) {
      const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      if (params.length === 0) continue;
      assert.ok(r.input.path, `${r.id} has path parameters but no path schema`);
      const shape = Object.keys((r.input.path as unknown as { shape: object }).shape);
      assert.deepEqual(shape.sort(), params.sort(), r.id);
    }
  });
});

describe('server-push frames', () => {
  test('the frames handlers build match the documented schemas', async () => {
    const { pushFrames: serverPushFrames } = await import('../contract/realtime/frames.ts');
    const { keyChangedFrame } = await import('../functions/core/public-keys.ts');
    const key = {
      userId: 'u',
      identityKey: 'i',
      publicKey: 'p',
      signature: 's',
      version: 2,
      fingerprint: '12345 67890 12345 67890 12345 67890',
      updatedAt: new Date().toISOString(),
    };
    assert.ok(serverPushFrames.keyChanged.safeParse(keyChangedFrame(key as never, true)).success);
    assert.ok(!serverPushFrames.keyChanged.safeParse({ type: 'keyChanged' }).success, 'the schema is not vacuous');
  });
});

describe('generated API documents', () => {
  test('docs/openapi.json and docs/asyncapi.yaml are up to date (run `npm run docs`)', () => {
    for (const [file, text] of Object.entries(renderedDocs())) {
      assert.equal(readFileSync(join(projectRoot, 'docs', file), 'utf8'), text, `${file} is stale`);
    }
  });

  test('every manifest route appears in the documents', () => {
    const openapi = openApiDocument();
    for (const r of httpRoutes) {
      const op = openapi.paths[r.path]?.[r.method.toLowerCase()] as { operationId?: string } | undefined;
      assert.equal(op?.operationId, r.id);
    }
    const asyncapi = asyncApiDocument() as { channels: Record<string, { address: string | null }> };
    assert.deepEqual(
      Object.values(asyncapi.channels)
        .flatMap((c) => (c.address === null ? [] : [c.address]))
        .sort(),
      wsRoutes.map((r) => r.routeKey).sort(),
    );
  });
});
