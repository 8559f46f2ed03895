// Generates docs/openapi.json (HTTP API) and docs/asyncapi.yaml (WebSocket API) from the route
// manifest, so the documents can never drift from what CDK deploys and the local gateway serves.
// `npm run docs` rewrites them; a test fails when the committed files are stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, safeParse, toJSONSchema } from 'zod/mini';
import type { Schema } from '../contract/route.ts';
import { errorBody } from '../contract/common.ts';
import { commonErrors, type ErrorExample, type HttpExamples, type WsExamples } from '../contract/examples.ts';
import { adminExamples } from '../contract/admin/examples.ts';
import { authExamples } from '../contract/auth/examples.ts';
import { conversationsExamples } from '../contract/conversations/examples.ts';
import { devicesExamples } from '../contract/devices/examples.ts';
import { attachmentsExamples } from '../contract/attachments/examples.ts';
import { groupsExamples } from '../contract/groups/examples.ts';
import { moderationExamples } from '../contract/moderation/examples.ts';
import { publicKeysExamples } from '../contract/public-keys/examples.ts';
import { pushFrameExamples, realtimeHttpExamples, realtimeWsExamples } from '../contract/realtime/examples.ts';
import { systemExamples } from '../contract/system/examples.ts';
import { usersExamples } from '../contract/users/examples.ts';
import { pushFrames as serverPushFrames } from '../contract/realtime/frames.ts';
import { httpRoutes, stageThrottle, wsRoutes, type HttpRoute } from './routes.ts';

/** Every route's examples (contract/<area>/examples.ts), by route id; tests parse each with its schema. */
export const httpExamplesById: ReadonlyMap<string, HttpExamples> = new Map(
  [
    ...systemExamples,
    ...authExamples,
    ...usersExamples,
    ...publicKeysExamples,
    ...conversationsExamples,
    ...groupsExamples,
    ...devicesExamples,
    ...attachmentsExamples,
    ...moderationExamples,
    ...adminExamples,
    ...realtimeHttpExamples,
  ].map((e) => [e.contract.id, e as unknown as HttpExamples]),
);
export const wsExamplesById: ReadonlyMap<string, WsExamples> = new Map(realtimeWsExamples.map((e) => [e.contract.id, e as unknown as WsExamples]));
export { pushFrameExamples };

/** Where the HTTP API answers: the laptop runtime, and a deployed stage (the HTTP API's $default stage). */
const httpServers = [
  { url: 'http://localhost:3000', description: 'Local runtime (`npm start`)' },
  {
    url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
    description: 'A deployed stage (the stack output HttpApiUrl; with an edge domain, https://{edgeDomain} instead)',
    variables: {
      apiId: { default: 'a1b2c3d4e5', description: 'The HTTP API id' },
      region: { default: 'eu-west-1', description: 'The AWS region of the stack' },
    },
  },
];

const named = <T>(examples: Readonly<Record<string, T>>, summary: (name: string, value: T) => string = (name) => name) =>
  Object.fromEntries(Object.entries(examples).map(([name, value]) => [name, { summary: summary(name, value), value }]));

/** Error examples grouped the way the document declares error responses: 4XX, 429 and 503 (5XX). */
function errorExamples(examples: Readonly<Record<string, ErrorExample>>, status: '4XX' | '503') {
  const picked = Object.entries(examples).filter(([, e]) => (status === '4XX' ? e.status >= 400 && e.status < 500 && e.status !== 429 : e.status === 503));
  return Object.fromEntries(picked.map(([name, e]) => [name, { summary: `${e.status}: ${e.summary}`, value: e.body }]));
}

/** Request shapes as clients send them, response shapes as the server sends them. */
const schema = (s: Schema, io: 'input' | 'output' = 'input') => toJSONSchema(s, { io, unrepresentable: 'any' });

function parameters(route: HttpRoute, ex: HttpExamples) {
  const out: unknown[] = [];
  for (const [where, s, values] of [
    ['path', route.input.path, ex.path],
    ['query', route.input.query, ex.query],
  ] as const) {
    if (!s) continue;
    const json = schema(s) as { properties?: Record<string, unknown>; required?: string[] };
    // as the schema types them (a page limit is an integer, though it travels as text)
    const given = (values === undefined ? {} : parse(s, values)) as Record<string, unknown>;
    for (const [name, prop] of Object.entries(json.properties ?? {})) {
      out.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        schema: prop,
        ...(given[name] === undefined ? {} : { example: given[name] }),
      });
    }
  }
  return out;
}

const schemaAcceptsUndefined = (s: Schema) => safeParse(s, undefined).success;

/** A route's examples; a route without them is a mistake the docs test names. */
function examplesOf(r: HttpRoute): HttpExamples {
  const e = httpExamplesById.get(r.id);
  if (!e) throw new Error(`${r.id} has no examples: add them to contract/<area>/examples.ts`);
  return e;
}

export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of httpRoutes) {
    const ex = examplesOf(r);
    const errors = { ...ex.errors, ...commonErrors(r.access) };
    const responses: Record<string, unknown> = {};
    for (const [status, s] of Object.entries(r.output)) {
      const example = (ex.responses as Record<string, unknown>)[status];
      responses[status] = s
        ? { description: `HTTP ${status}`, content: { 'application/json': { schema: schema(s, 'output'), example } } }
        : { description: 'No content' };
    }
    responses['4XX'] = {
      description: 'Client error',
      content: { 'application/json': { schema: schema(errorBody, 'output'), examples: errorExamples(errors, '4XX') } },
    };
    responses['429'] = { description: 'Throttled (gateway or per-client limit); see Retry-After' };
    responses['503'] ??= {
      description: 'DynamoDB or @connections throttled, timed out or failed (code throttled or unavailable); retry after Retry-After',
      content: { 'application/json': { schema: schema(errorBody, 'output'), examples: errorExamples(errors, '503') } },
    };
    const body = r.input.body && {
      // an optional body (refresh, deletions with a proof) may be left out
      required: !schemaAcceptsUndefined(r.input.body),
      content: { 'application/json': { schema: schema(r.input.body), examples: named(ex.bodies ?? {}) } },
    };
    (paths[r.path] ??= {})[r.method.toLowerCase()] = {
      operationId: r.id,
      summary: r.summary,
      'x-nexchat-access': r.access,
      'x-nexchat-throttle': r.throttle,
      ...(r.access === 'public' ? { security: [] } : {}),
      parameters: parameters(r, ex),
      ...(body ? { requestBody: body } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'NexChat HTTP API', version: '0.1.0', description: 'Generated from contract/ and lib/routes.ts by `npm run docs`.' },
    servers: httpServers,
    'x-nexchat-stage-throttle': stageThrottle,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: [{ bearer: [] }],
    paths,
  };
}

/** A message of the AsyncAPI document: its payload schema and its examples. */
const asyncMessage = (title: string, s: Schema, examples: Readonly<Record<string, unknown>>, io: 'input' | 'output') => ({
  title,
  payload: schema(s, io),
  examples: Object.entries(examples).map(([name, payload]) => ({ name, payload })),
});

/** Where the WebSocket API answers: the laptop runtime, and a deployed stage (named after the stage). */
const wsServers = {
  local: { host: 'localhost:3001', protocol: 'ws', description: 'Local runtime (`npm start`)' },
  aws: {
    host: '{apiId}.execute-api.{region}.amazonaws.com',
    pathname: '/{stage}',
    protocol: 'wss',
    description: 'A deployed stage (the stack output WebSocketUrl; with an edge domain, wss://{edgeDomain}/{stage} instead)',
    variables: {
      apiId: { default: 'f6g7h8i9j0', description: 'The WebSocket API id' },
      region: { default: 'eu-west-1', description: 'The AWS region of the stack' },
      stage: { default: 'dev', description: 'The stage (cdk -c stage=...)' },
    },
  },
};

export function asyncApiDocument() {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const r of wsRoutes) {
    const name = r.routeKey.replace('$', '');
    const ex = wsExamplesById.get(r.id);
    if (!ex) throw new Error(`${r.id} has no examples: add them to contract/realtime/examples.ts`);
    const messages: Record<string, unknown> = {};
    const channel: Record<string, unknown> = { address: r.routeKey, description: r.summary, messages };
    if (r.input && r.routeKey === '$connect') {
      // the query string of the upgrade request, not a frame
      const examples = Object.values(ex.requests ?? {});
      channel.bindings = { ws: { query: { ...schema(r.input), examples }, bindingVersion: '0.1.0' } };
    } else if (r.input) {
      messages.request = asyncMessage(`${r.routeKey} frame`, r.input, ex.requests ?? {}, 'input');
    }
    for (const [type, s] of Object.entries(r.output)) {
      messages[type] = asyncMessage(`${type} frame`, s, { [type]: (ex.replies as Record<string, unknown>)[type] }, 'output');
    }
    channels[name] = channel;
    const replies = Object.keys(r.output);
    const replyRefs = replies.map((t) => ({ $ref: `#/channels/${name}/messages/${t}` }));
    if (messages.request) {
      operations[`${name}Receive`] = {
        action: 'receive',
        channel: { $ref: `#/channels/${name}` },
        summary: r.summary,
        messages: [{ $ref: `#/channels/${name}/messages/request` }],
        ...(replies.length ? { reply: { channel: { $ref: `#/channels/${name}` }, messages: replyRefs } } : {}),
      };
    }
    if (replies.length) operations[`${name}Send`] = { action: 'send', channel: { $ref: `#/channels/${name}` }, messages: replyRefs };
  }
  channels.push = {
    address: null,
    description: "Frames the server pushes to a user's connections because of someone else's action (messages, receipts, typing, presence, key changes)",
    messages: Object.fromEntries(
      Object.entries(serverPushFrames).map(([type, s]) => [
        type,
        asyncMessage(
          `${type} frame`,
          s,
          Object.fromEntries(pushFrameExamples[type as keyof typeof pushFrameExamples].map((v, i) => [`${type}${i + 1}`, v])),
          'output',
        ),
      ]),
    ),
  };
  operations.pushSend = {
    action: 'send',
    channel: { $ref: '#/channels/push' },
    messages: Object.keys(serverPushFrames).map((t) => ({ $ref: `#/channels/push/messages/${t}` })),
  };
  return {
    asyncapi: '3.1.0',
    info: {
      title: 'NexChat WebSocket API',
      version: '0.1.0',
      description: 'Generated from contract/ and lib/routes.ts by `npm run docs`. Frames route by their `action` field; unknown actions go to $default.',
    },
    servers: wsServers,
    defaultContentType: 'application/json',
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
