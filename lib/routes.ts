// THE route manifest. Every HTTP route (method + path) and WebSocket route (route key) with its
// handler file, access level, table grants, gateway throttle and zod schemas. The CDK stack, the
// local gateway and the API documents are all generated from this list; tests assert they agree.
// This module must stay free of aws-cdk-lib and SDK imports: Lambda bundles include it.
import { z } from 'zod';
import type { TableId } from './tables.ts';

export type Access = 'public' | 'user' | 'admin';
export type Grant = 'read' | 'readwrite';
export type SecretId = 'auth';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Throttle {
  /** Steady-state requests per second. */
  readonly rate: number;
  /** Bucket size: requests allowed at once. */
  readonly burst: number;
}

interface RouteCommon {
  /** Stable id: names the Lambda and its log group. */
  readonly id: string;
  /** Path of the handler module from the project root; it exports `handler`. */
  readonly handler: string;
  readonly access: Access;
  readonly tables: Readonly<Partial<Record<TableId, Grant>>>;
  readonly throttle: Throttle;
  readonly summary: string;
  readonly secrets?: readonly SecretId[];
  /** Needs execute-api:ManageConnections on the WebSocket API (pushes frames to sockets). */
  readonly manageConnections?: boolean;
  readonly memoryMb?: number;
  readonly timeoutSeconds?: number;
}

export interface HttpInput<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  readonly body?: B;
  readonly query?: Q;
  readonly path?: P;
}

export interface HttpRoute<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, P extends z.ZodType = z.ZodType>
  extends RouteCommon {
  readonly kind: 'http';
  readonly method: HttpMethod;
  /** API Gateway path, parameters in braces: /api/users/{userId}/public-key */
  readonly path: string;
  readonly input: HttpInput<B, Q, P>;
  /** Response body schema per status code. */
  readonly output: Readonly<Record<number, z.ZodType>>;
}

export interface WsRoute<I extends z.ZodType = z.ZodType> extends RouteCommon {
  readonly kind: 'ws';
  /** $connect, $disconnect, $default, or the value of a frame's `action` field. */
  readonly routeKey: string;
  /** $connect: the query string; other routes: the JSON frame. */
  readonly input?: I;
  /** Frames the route sends back, by `type`. */
  readonly output: Readonly<Record<string, z.ZodType>>;
}

export type Route = HttpRoute | WsRoute;

function http<B extends z.ZodType = z.ZodNever, Q extends z.ZodType = z.ZodNever, P extends z.ZodType = z.ZodNever>(
  r: Omit<HttpRoute<B, Q, P>, 'kind'>,
): HttpRoute<B, Q, P> {
  return { kind: 'http', ...r };
}

function ws<I extends z.ZodType = z.ZodNever>(r: Omit<WsRoute<I>, 'kind'>): WsRoute<I> {
  return { kind: 'ws', ...r };
}

/** Stage-wide default throttle; routes below set their own, tighter where it matters. */
export const stageThrottle: Throttle = { rate: 200, burst: 400 };

// ---- shared schemas -------------------------------------------------------------------------

export const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

export const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  stage: z.string(),
  time: z.iso.datetime(),
  dynamodb: z.object({ reachable: z.boolean(), latencyMs: z.number().nonnegative() }),
});

/** $default takes any frame with an action; only ping is answered, the rest get an error frame. */
export const defaultFrame = z.looseObject({ action: z.string().min(1).max(64) });
export const pongFrame = z.object({ type: z.literal('pong'), time: z.iso.datetime() });
export const errorFrame = z.object({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
});

// ---- the manifest ---------------------------------------------------------------------------

export const routes = {
  getHealth: http({
    id: 'GetHealth',
    method: 'GET',
    path: '/api/health',
    handler: 'functions/http/system/get-health.ts',
    access: 'public',
    tables: { ephemeral: 'read' },
    throttle: { rate: 20, burst: 40 },
    summary: 'Liveness and DynamoDB reachability',
    input: { query: z.strictObject({}) },
    output: { 200: healthSchema, 503: healthSchema },
  }),
  wsConnect: ws({
    id: 'WsConnect',
    routeKey: '$connect',
    handler: 'functions/ws/connect.ts',
    access: 'public',
    tables: { connections: 'readwrite' },
    throttle: { rate: 50, burst: 100 },
    summary: 'Opens a connection and records it',
    input: z.strictObject({}),
    output: {},
  }),
  wsDisconnect: ws({
    id: 'WsDisconnect',
    routeKey: '$disconnect',
    handler: 'functions/ws/disconnect.ts',
    access: 'public',
    tables: { connections: 'readwrite' },
    throttle: { rate: 50, burst: 100 },
    summary: 'Forgets a closed connection',
    output: {},
  }),
  wsDefault: ws({
    id: 'WsDefault',
    routeKey: '$default',
    handler: 'functions/ws/default.ts',
    access: 'public',
    tables: {},
    manageConnections: true,
    throttle: { rate: 100, burst: 200 },
    summary: 'Answers {"action":"ping"} with {"type":"pong"}; any other frame gets an error frame',
    input: defaultFrame,
    output: { pong: pongFrame, error: errorFrame },
  }),
} as const satisfies Record<string, Route>;

export type RouteName = keyof typeof routes;

export const allRoutes: readonly Route[] = Object.values(routes);
export const httpRoutes: readonly HttpRoute[] = allRoutes.filter((r): r is HttpRoute => r.kind === 'http');
export const wsRoutes: readonly WsRoute[] = allRoutes.filter((r): r is WsRoute => r.kind === 'ws');

/** The API Gateway route key of an HTTP route: "GET /api/health". */
export function httpRouteKey(r: HttpRoute): string {
  return `${r.method} ${r.path}`;
}
