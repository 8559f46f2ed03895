// Nothing internal can leave: every response and frame goes through its contract schema, which
// strips keys it does not name. This test builds, from each schema, a full valid value (every
// optional field filled in), plants an internal key in every object of it, sends it out the way
// handlers do, and fails if any planted key survives, for every route, status and frame. It also
// sends a real handler's answer through the HTTP middleware (an internal field is dropped), and
// checks the moderator report answer no longer carries the report's dedupe key.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as z from 'zod/mini';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { Schema } from '../contract/route.ts';
import { httpContract } from '../contract/route.ts';
import { shapeOutput } from '../contract/shape.ts';
import { errorFrame, pushFrames } from '../contract/realtime/frames.ts';
import { report } from '../contract/admin/schemas.ts';
import { allRoutes } from '../lib/routes.ts';

const PLANTED = '__internal';

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  format?: string;
  minimum?: number;
  exclusiveMinimum?: number;
  additionalProperties?: unknown;
};

/** A valid value of the schema with every property present, and the planted key in every object. */
function sample(s: JsonSchema, plant: boolean): unknown {
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  const options = s.anyOf ?? s.oneOf;
  if (options) return sample(options.find((o) => o.type !== 'null') ?? options[0]!, plant);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object': {
      // a declared map (additionalProperties): open keys by design, checked to be flat below
      if (s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties) return { anyKey: 'plain value' };
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) out[k] = sample(v, plant);
      if (plant) out[PLANTED] = 'must not leave';
      return out;
    }
    case 'array':
      return [sample(s.items ?? {}, plant)];
    case 'string':
      return s.format === 'date-time' ? '2026-11-30T00:00:00.000Z' : 'text';
    case 'integer':
    case 'number':
      return Math.max(1, (s.minimum ?? 0) + 1, (s.exclusiveMinimum ?? 0) + 1);
    case 'boolean':
      return true;
    default:
      // an unconstrained value: only error details are, and DomainError types them (ErrorDetails)
      return null;
  }
}

function plantedPaths(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => plantedPaths(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => (k === PLANTED ? [`${path}.${k}`] : plantedPaths(v, `${path}.${k}`)));
  }
  return [];
}

/** Every schema a route or the server sends: HTTP bodies per status, WS replies per type, push frames, error frames. */
const outgoing: { where: string; schema: Schema }[] = [
  ...allRoutes.flatMap((r) =>
    Object.entries(r.output as Record<string, Schema | null>).flatMap(([key, schema]) =>
      schema ? [{ where: r.kind === 'http' ? `${r.id} ${key}` : `${r.id} ${key} frame`, schema }] : [],
    ),
  ),
  ...Object.entries(pushFrames).map(([type, schema]) => ({ where: `push ${type} frame`, schema: schema as Schema })),
  { where: 'error frame', schema: errorFrame },
];

describe('no response or frame carries a key its schema does not name', () => {
  test('the list covers every route with a body', () => {
    assert.ok(outgoing.length >= 45, `${outgoing.length} schemas`);
  });

  for (const { where, schema } of outgoing) {
    test(where, () => {
      const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
      const clean = sample(json, false);
      assert.ok(z.safeParse(schema, clean).success, `the generated sample is valid (so the check below is not vacuous): ${JSON.stringify(clean)}`);
      const leaky = sample(json, true);
      assert.ok(plantedPaths(leaky).length > 0 || typeof clean !== 'object', 'a key was planted');
      const sent = shapeOutput(schema, leaky, where);
      assert.deepEqual(plantedPaths(sent), [], `${where} lets internal keys through`);
    });
  }
});

/** Every open-keyed map in a schema, with what its values may be. */
function maps(s: JsonSchema, path = ''): { path: string; values: JsonSchema }[] {
  const here =
    s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties ? [{ path, values: s.additionalProperties as JsonSchema }] : [];
  const inner = [
    ...Object.entries(s.properties ?? {}).flatMap(([k, v]) => maps(v, `${path}.${k}`)),
    ...(s.items ? maps(s.items, `${path}[]`) : []),
    ...[...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])].flatMap((o) => maps(o, path)),
  ];
  return [...here, ...inner];
}

describe('the only open-keyed shapes are flat maps of plain values (nothing nested can hide in them)', () => {
  for (const { where, schema } of outgoing) {
    test(where, () => {
      const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
      for (const m of maps(json)) {
        const kinds = (m.values.anyOf ?? [m.values]).flatMap((v) => (Array.isArray(v.type) ? v.type : [v.type]));
        assert.ok(
          kinds.every((t) => t === 'string' || t === 'number' || t === 'boolean'),
          `${where}${m.path}: a map whose values may be ${JSON.stringify(kinds)}`,
        );
      }
    });
  }
});

describe('error details', () => {
  test('only field issues or flat plain values leave; nested or unnamed keys are dropped at run time', async () => {
    const { outgoingError } = await import('../functions/middleware/common.ts');
    const issues = outgoingError('validation_failed', 'Invalid body', [
      { path: 'body.name', message: 'Too short', code: 'too_small', [PLANTED]: 'x', input: { secret: 1 } },
    ]);
    assert.deepEqual(issues.error.details, [{ path: 'body.name', message: 'Too short', code: 'too_small' }]);
    const facts = outgoingError('rate_limited', 'Too many', { retryAfterSeconds: 3, limited: 'x', [PLANTED]: { nested: true }, stack: ['a'] });
    assert.deepEqual(facts.error.details, { retryAfterSeconds: 3, limited: 'x' });
    assert.equal(outgoingError('x', 'y', 'a string').error.details, undefined);
  });
});

describe('through the HTTP middleware', () => {
  test("a handler's internal field never reaches the client, and an undeclared status is a 500, never sent", async () => {
    const { httpHandler } = await import('../functions/middleware/http-handler.ts');
    const contract = httpContract({
      id: 'LeakProbe',
      method: 'GET',
      path: '/probe',
      access: 'public',
      summary: 'test',
      input: {},
      output: { 200: z.object({ reportId: z.string(), items: z.array(z.object({ id: z.string() })) }) },
    });
    const leaking = { reportId: 'r1', dedupeKey: 'secret-dedupe', items: [{ id: 'a', ownerEmail: 'x@example.test' }] };
    const handler = httpHandler(contract).handle(async () => ({ body: leaking }));
    const event = {
      rawPath: '/probe',
      headers: {},
      requestContext: { requestId: 'r', http: { method: 'GET', sourceIp: '203.0.113.1' } },
    } as unknown as APIGatewayProxyEventV2;
    const res = await handler(event, {} as Context);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(JSON.parse(res.body!), { reportId: 'r1', items: [{ id: 'a' }] });

    const wrongStatus = httpHandler(contract).handle(async () => ({ statusCode: 201, body: leaking }) as never);
    const res2 = await wrongStatus(event, {} as Context);
    assert.equal(res2.statusCode, 500);
    assert.doesNotMatch(res2.body ?? '', /secret-dedupe|example\.test/);
  });

  test('the moderator view of a report has no dedupe key (the leak this contract closed)', () => {
    const stored = { reportId: 'r_1', reporterId: 'u1', targetUserId: 'u2', reason: 'spam', status: 'open', createdAt: 't', updatedAt: 't', dedupeKey: 'abc' };
    assert.equal((shapeOutput(report, stored, 'report') as Record<string, unknown>).dedupeKey, undefined);
  });
});
