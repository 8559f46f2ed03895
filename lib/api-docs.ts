// Generates docs/openapi.json (HTTP API) and docs/asyncapi.yaml (WebSocket API) from the route
// manifest, so the documents can never drift from what CDK deploys and the local gateway serves.
// `npm run docs` rewrites them; a test fails when the committed files are stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toJSONSchema } from 'zod/mini';
import type { Schema } from '../contract/route.ts';
import { errorBody } from '../contract/common.ts';
import { pushFrames as serverPushFrames } from '../contract/realtime/frames.ts';
import { httpRoutes, stageThrottle, wsRoutes, type HttpRoute } from './routes.ts';

/** Request shapes as clients send them, response shapes as the server sends them. */
const schema = (s: Schema, io: 'input' | 'output' = 'input') => toJSONSchema(s, { io, unrepresentable: 'any' });

function parameters(route: HttpRoute) {
  const out: unknown[] = [];
  for (const [where, s] of [
    ['path', route.input.path],
    ['query', route.input.query],
  ] as const) {
    if (!s) continue;
    const json = schema(s) as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, prop] of Object.entries(json.properties ?? {})) {
      out.push({ name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema: prop });
    }
  }
  return out;
}

export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of httpRoutes) {
    const responses: Record<string, unknown> = {};
    for (const [status, s] of Object.entries(r.output)) {
      responses[status] = s
        ? { description: `HTTP ${status}`, content: { 'application/json': { schema: schema(s, 'output') } } }
        : { description: 'No content' };
    }
    responses['4XX'] = { description: 'Client error', content: { 'application/json': { schema: schema(errorBody, 'output') } } };
    responses['429'] = { description: 'Throttled (gateway or per-client limit); see Retry-After' };
    responses['503'] ??= {
      description: 'DynamoDB or @connections throttled, timed out or failed (code throttled or unavailable); retry after Retry-After',
      content: { 'application/json': { schema: schema(errorBody, 'output') } },
    };
    (paths[r.path] ??= {})[r.method.toLowerCase()] = {
      operationId: r.id,
      summary: r.summary,
      'x-nexchat-access': r.access,
      'x-nexchat-throttle': r.throttle,
      ...(r.access === 'public' ? { security: [] } : {}),
      parameters: parameters(r),
      ...(r.input.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(r.input.body) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'NexChat HTTP API', version: '0.1.0', description: 'Generated from contract/ and lib/routes.ts by `npm run docs`.' },
    'x-nexchat-stage-throttle': stageThrottle,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: [{ bearer: [] }],
    paths,
  };
}

export function asyncApiDocument() {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const r of wsRoutes) {
    const name = r.routeKey.replace('$', '');
    const messages: Record<string, unknown> = {};
    if (r.input && r.routeKey !== '$connect') messages.request = { payload: schema(r.input) };
    for (const [type, s] of Object.entries(r.output)) messages[type] = { payload: schema(s, 'output') };
    channels[name] = { address: r.routeKey, description: r.summary, messages };
    if (messages.request) operations[`${name}Receive`] = { action: 'receive', channel: { $ref: `#/channels/${name}` }, summary: r.summary };
    const replies = Object.keys(r.output);
    if (replies.length) {
      operations[`${name}Send`] = {
        action: 'send',
        channel: { $ref: `#/channels/${name}` },
        messages: replies.map((t) => ({ $ref: `#/channels/${name}/messages/${t}` })),
      };
    }
  }
  channels.push = {
    address: null,
    description: "Frames the server pushes to a user's connections because of someone else's action (messages, receipts, typing, presence, key changes)",
    messages: Object.fromEntries(Object.entries(serverPushFrames).map(([type, s]) => [type, { payload: schema(s, 'output') }])),
  };
  operations.pushSend = {
    action: 'send',
    channel: { $ref: '#/channels/push' },
    messages: Object.keys(serverPushFrames).map((t) => ({ $ref: `#/channels/push/messages/${t}` })),
  };
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'NexChat WebSocket API',
      version: '0.1.0',
      description: 'Generated from contract/ and lib/routes.ts by `npm run docs`. Frames route by their `action` field; unknown actions go to $default.',
    },
    channels,
    operations,
  };
}

/** YAML is a superset of JSON; the AsyncAPI file is written as JSON so it needs no YAML library. */
export function renderedDocs(): Record<string, string> {
  return {
    'openapi.json': `${JSON.stringify(openApiDocument(), null, 2)}\n`,
    'asyncapi.yaml': `# Generated from contract/ and lib/routes.ts by \`npm run docs\` (JSON is valid YAML). Do not edit.\n${JSON.stringify(asyncApiDocument(), null, 2)}\n`,
  };
}

if (process.argv.includes('--write')) {
  const dir = join(import.meta.dirname, '..', 'docs');
  for (const [file, text] of Object.entries(renderedDocs())) writeFileSync(join(dir, file), text);
  console.log('docs/openapi.json and docs/asyncapi.yaml written');
}
