// THE route manifest. Every HTTP route (method + path) and WebSocket route (route key) with its
// handler file, access level, table grants, gateway throttle and zod schemas. The CDK stack, the
// local gateway and the API documents are all generated from this list; tests assert they agree.
// This module must stay free of aws-cdk-lib and SDK imports: Lambda bundles include it.
import { z } from 'zod';
import type { TableId } from './tables.ts';
import { codeSchema, emailSchema, otpPurposes, phoneSchema } from '../functions/core/otp.ts';

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
  /** Sends OTP messages: ses:SendEmail for email, sns:Publish for SMS. */
  readonly notify?: boolean;
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

/**
 * Signed-in routes verify the access token against the user (status, tokens-valid-after) and the
 * session family (revoked?), so they always read those two tables and the signing secret.
 */
function withAuthGrants<R extends Omit<Route, 'kind'>>(r: R): R {
  if (r.access === 'public') return r;
  const tables = { ...r.tables, users: r.tables.users ?? 'read', sessions: r.tables.sessions ?? 'read' };
  const secrets = [...new Set([...(r.secrets ?? []), 'auth' as const])];
  return { ...r, tables, secrets };
}

function http<B extends z.ZodType = z.ZodNever, Q extends z.ZodType = z.ZodNever, P extends z.ZodType = z.ZodNever>(
  r: Omit<HttpRoute<B, Q, P>, 'kind'>,
): HttpRoute<B, Q, P> {
  return { kind: 'http', ...withAuthGrants(r) };
}

function ws<I extends z.ZodType = z.ZodNever>(r: Omit<WsRoute<I>, 'kind'>): WsRoute<I> {
  return { kind: 'ws', ...withAuthGrants(r) };
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

// ---- identity schemas ----------------------------------------------------------------------

const displayName = z.string().trim().min(2, { message: 'At least 2 characters' }).max(64, { message: 'At most 64 characters' });
/** Compared exactly as given: no trimming, no normalisation; only the length is checked here. */
const newPassword = z.string().min(8, { message: 'At least 8 characters' }).max(128, { message: 'At most 128 characters' });
const anyPassword = z.string().min(1).max(128);

const oneIdentifier = (v: { email?: string | undefined; phone?: string | undefined }, ctx: z.RefinementCtx) => {
  if ((v.email === undefined) === (v.phone === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['email'], message: 'Give exactly one of email or phone' });
  }
};

export const registerBody = z
  .strictObject({ email: emailSchema.optional(), phone: phoneSchema.optional(), displayName, password: newPassword.optional(), code: codeSchema.optional() })
  .superRefine(oneIdentifier);

export const loginBody = z
  .strictObject({ email: emailSchema.optional(), phone: phoneSchema.optional(), password: anyPassword.optional(), code: codeSchema.optional() })
  .superRefine(oneIdentifier);

export const otpRequestBody = z.discriminatedUnion('channel', [
  z.strictObject({ channel: z.literal('email'), destination: emailSchema, purpose: z.enum(otpPurposes) }),
  z.strictObject({ channel: z.literal('sms'), destination: phoneSchema, purpose: z.enum(otpPurposes) }),
]);

/** The refresh token comes in the body (native apps) or the cookie (browsers); the body may be empty. */
export const refreshBody = z.strictObject({ refreshToken: z.string().min(1).max(4096).optional() }).optional();
export const passwordBody = z.strictObject({ currentPassword: anyPassword.optional(), newPassword, code: codeSchema.optional() });
export const updateMeBody = z.strictObject({ displayName });

export const userSchema = z.object({
  userId: z.string(),
  displayName: z.string(),
  email: z.string().optional(),
  phone: z.string().optional(),
  role: z.enum(['user', 'moderator', 'admin']),
  hasPassword: z.boolean(),
  createdAt: z.string(),
});
export const tokensSchema = z.object({ user: userSchema, accessToken: z.string(), refreshToken: z.string(), expiresIn: z.number().int().positive() });
export const otpAcceptedSchema = z.object({
  expiresAt: z.iso.datetime(),
  expiresIn: z.number().int(),
  resendAfter: z.iso.datetime(),
  resendIn: z.number().int(),
});
export const otpRequiredSchema = otpAcceptedSchema.extend({ otpRequired: z.literal(true), channel: z.enum(['email', 'sms']) });
export const meSchema = z.object({ user: userSchema });

const authThrottle = { rate: 10, burst: 20 } as const;
/** scrypt N=2^17 wants 128 MiB; more memory also buys the CPU that keeps a hash near 100 ms. */
const hashingMemory = 1024;

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
  requestOtp: http({
    id: 'RequestOtp',
    method: 'POST',
    path: '/api/auth/otp/request',
    handler: 'functions/http/auth/request-otp.ts',
    access: 'public',
    tables: { users: 'read', ephemeral: 'readwrite' },
    secrets: ['auth'],
    notify: true,
    throttle: { rate: 5, burst: 10 },
    summary: 'Sends a one-time code by email (SES) or SMS (SNS); same answer for known and unknown destinations',
    input: { body: otpRequestBody },
    output: { 202: otpAcceptedSchema },
  }),
  register: http({
    id: 'Register',
    method: 'POST',
    path: '/api/auth/register',
    handler: 'functions/http/auth/register.ts',
    access: 'public',
    tables: { users: 'readwrite', sessions: 'readwrite', ephemeral: 'readwrite' },
    secrets: ['auth'],
    memoryMb: hashingMemory,
    throttle: { rate: 5, burst: 10 },
    summary: 'Creates an account (email or phone, display name, optional password; OTP code when required)',
    input: { body: registerBody },
    output: { 201: tokensSchema },
  }),
  login: http({
    id: 'Login',
    method: 'POST',
    path: '/api/auth/login',
    handler: 'functions/http/auth/login.ts',
    access: 'public',
    tables: { users: 'read', sessions: 'readwrite', ephemeral: 'readwrite' },
    secrets: ['auth'],
    notify: true,
    memoryMb: hashingMemory,
    throttle: authThrottle,
    summary: 'Signs in with a password or an OTP code; 202 asks for the code when OTP is mandatory at login',
    input: { body: loginBody },
    output: { 200: tokensSchema, 202: otpRequiredSchema },
  }),
  refresh: http({
    id: 'Refresh',
    method: 'POST',
    path: '/api/auth/refresh',
    handler: 'functions/http/auth/refresh.ts',
    access: 'public',
    tables: { users: 'read', sessions: 'readwrite', ephemeral: 'readwrite' },
    secrets: ['auth'],
    throttle: { rate: 20, burst: 40 },
    summary: 'Rotates the refresh token (body or cookie); a reused token revokes its whole family',
    input: { body: refreshBody },
    output: { 200: tokensSchema },
  }),
  logout: http({
    id: 'Logout',
    method: 'POST',
    path: '/api/auth/logout',
    handler: 'functions/http/auth/logout.ts',
    access: 'user',
    tables: { sessions: 'readwrite' },
    throttle: authThrottle,
    summary: 'Ends this session: its refresh and access tokens stop working at once',
    input: {},
    output: {},
  }),
  logoutAll: http({
    id: 'LogoutAll',
    method: 'POST',
    path: '/api/auth/logout-all',
    handler: 'functions/http/auth/logout-all.ts',
    access: 'user',
    tables: { users: 'readwrite', sessions: 'readwrite' },
    throttle: authThrottle,
    summary: 'Ends every session of the account',
    input: {},
    output: {},
  }),
  changePassword: http({
    id: 'ChangePassword',
    method: 'POST',
    path: '/api/auth/password',
    handler: 'functions/http/auth/change-password.ts',
    access: 'user',
    tables: { users: 'readwrite', sessions: 'readwrite', ephemeral: 'readwrite' },
    memoryMb: hashingMemory,
    throttle: authThrottle,
    summary: 'Sets a new password (proving the current one, or an OTP for passwordless accounts); revokes every other session',
    input: { body: passwordBody },
    output: { 200: meSchema },
  }),
  getMe: http({
    id: 'GetMe',
    method: 'GET',
    path: '/api/users/me',
    handler: 'functions/http/users/get-me.ts',
    access: 'user',
    tables: {},
    throttle: { rate: 50, burst: 100 },
    summary: 'The signed-in user',
    input: {},
    output: { 200: meSchema },
  }),
  updateMe: http({
    id: 'UpdateMe',
    method: 'PATCH',
    path: '/api/users/me',
    handler: 'functions/http/users/update-me.ts',
    access: 'user',
    tables: { users: 'readwrite' },
    throttle: { rate: 20, burst: 40 },
    summary: 'Changes the display name',
    input: { body: updateMeBody },
    output: { 200: meSchema },
  }),
  deleteMe: http({
    id: 'DeleteMe',
    method: 'DELETE',
    path: '/api/users/me',
    handler: 'functions/http/users/delete-me.ts',
    access: 'user',
    tables: { users: 'readwrite', sessions: 'readwrite', keys: 'readwrite' },
    throttle: authThrottle,
    summary: 'Deletes the account; its sessions and public keys go with it',
    input: {},
    output: {},
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
