// THE route manifest. Every HTTP route (method + path) and WebSocket route (route key) with its
// handler file, access level, table grants, gateway throttle and zod schemas. The CDK stack, the
// local gateway and the API documents are all generated from this list; tests assert they agree.
// This module must stay free of aws-cdk-lib and SDK imports: Lambda bundles include it.
import { z } from 'zod';
import type { TableId } from './tables.ts';
import type { RateLimitName } from '../functions/core/config.ts';
import { codeSchema, emailSchema, otpPurposes, phoneSchema } from '../functions/core/otp.ts';

/** public: anyone; user: signed in; moderator: role moderator or admin; admin: role admin. */
export type Access = 'public' | 'user' | 'moderator' | 'admin';
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
  /** A per-user limit (config rate-limit table) the middleware enforces after sign-in. */
  readonly userLimit?: RateLimitName;
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

/** A Lambda REQUEST authorizer in front of $connect (the same module runs locally before $connect). */
export interface WsAuthorizer {
  readonly id: string;
  readonly handler: string;
  /** Query-string parameter that must be present (the API Gateway identity source). */
  readonly queryParameter: string;
  readonly tables: Readonly<Partial<Record<TableId, Grant>>>;
}

export interface WsRoute<I extends z.ZodType = z.ZodType> extends RouteCommon {
  readonly authorizer?: WsAuthorizer;
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
  const tables = { ...r.tables, users: r.tables.users ?? 'read', sessions: r.tables.sessions ?? 'read', ...(r.userLimit ? { ephemeral: 'readwrite' as const } : {}) };
  const secrets = [...new Set([...(r.secrets ?? []), 'auth' as const])];
  return { ...r, tables, secrets };
}

function http<B extends z.ZodType = z.ZodNever, Q extends z.ZodType = z.ZodNever, P extends z.ZodType = z.ZodNever>(
  r: Omit<HttpRoute<B, Q, P>, 'kind'>,
): HttpRoute<B, Q, P> {
  return { kind: 'http', ...withAuthGrants(r) };
}

/**
 * Signed-in WebSocket routes find the caller through the authorizer context (or the connection row
 * written at $connect) and check on every frame that the session is still alive (users, sessions).
 */
function ws<I extends z.ZodType = z.ZodNever>(r: Omit<WsRoute<I>, 'kind'>): WsRoute<I> {
  if (r.access === 'public' || r.routeKey === '$connect' || r.routeKey === '$disconnect') return { kind: 'ws', ...r };
  const t = r.tables;
  const limit = r.userLimit ? { ephemeral: 'readwrite' as const } : {};
  return { kind: 'ws', ...r, tables: { ...t, connections: t.connections ?? 'read', users: t.users ?? 'read', sessions: t.sessions ?? 'read', ...limit } };
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
export const resetPasswordBody = z
  .strictObject({ email: emailSchema.optional(), phone: phoneSchema.optional(), code: codeSchema, newPassword })
  .superRefine(oneIdentifier);

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

// ---- keys and messaging schemas ---------------------------------------------------------------

const base64 = (maxChars: number) =>
  z
    .string()
    .max(maxChars, { message: `At most ${maxChars} base64 characters` })
    .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, { message: 'Must be standard base64' });
export const userIdSchema = z.uuid({ message: 'Not a user id' });
export const conversationIdSchema = z.string().regex(/^dm_[0-9a-f]{32}$/, { message: 'Not a conversation id' });
export const messageIdSchema = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, { message: 'Not a message id' });
export const clientMessageIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, { message: '8-64 characters of A-Z a-z 0-9 _ -' });

export const putKeyBody = z.strictObject({ identityKey: base64(64), publicKey: base64(64), signature: base64(128) });
export const publicKeySchema = z.object({
  userId: z.string(),
  identityKey: z.string(),
  publicKey: z.string(),
  signature: z.string(),
  version: z.number().int().positive(),
  fingerprint: z.string(),
  updatedAt: z.string(),
  identityChangedAt: z.string().optional(),
});

/** Ciphertext limit is 64 KiB decoded; the schema admits a little more so the core can answer clearly. */
export const messageInput = {
  clientMessageId: clientMessageIdSchema,
  ciphertext: base64(120_000),
  nonce: base64(64),
  senderKeyVersion: z.number().int().positive(),
  recipientKeyVersion: z.number().int().positive(),
};
export const sendMessageFrame = z.strictObject({ action: z.literal('sendMessage'), to: userIdSchema, ...messageInput });
export const postMessageBody = z.strictObject(messageInput);
export const typingFrame = z.strictObject({ action: z.literal('typing'), to: userIdSchema });
export const receiptFrame = (action: 'markRead' | 'delivered') =>
  z.strictObject({ action: z.literal(action), conversationId: conversationIdSchema, upToMessageId: messageIdSchema });

export const messageSchema = z.object({
  conversationId: z.string(),
  messageId: z.string(),
  clientMessageId: z.string(),
  senderId: z.string(),
  recipientId: z.string(),
  ciphertext: z.string(),
  nonce: z.string(),
  senderKeyVersion: z.number(),
  recipientKeyVersion: z.number(),
  sentAt: z.string(),
});
export const messageFrame = messageSchema.extend({ type: z.literal('message'), seq: z.number().int() });
export const ackSchema = z.object({ clientMessageId: z.string(), messageId: z.string(), conversationId: z.string(), sentAt: z.string() });
export const ackFrame = ackSchema.extend({ type: z.literal('ack') });
export const conversationSchema = z.object({
  conversationId: z.string(),
  peer: z.object({ userId: z.string(), displayName: z.string().optional() }),
  createdAt: z.string(),
  lastMessage: z.object({ messageId: z.string(), senderId: z.string(), sentAt: z.string() }).optional(),
  unreadCount: z.number().int().nonnegative(),
  readUpTo: z.string().optional(),
});
const cursor = z.string().max(512).optional();

/**
 * Frames the server pushes without being asked on that connection (another user's action, an
 * HTTP route, a moderator). Documented in the AsyncAPI file next to the route replies.
 */
export const serverPushFrames = {
  message: messageFrame,
  typing: z.object({ type: z.literal('typing'), from: z.string(), conversationId: z.string() }),
  read: z.object({ type: z.literal('read'), conversationId: z.string(), by: z.string(), upToMessageId: z.string() }),
  delivered: z.object({ type: z.literal('delivered'), conversationId: z.string(), by: z.string(), upToMessageId: z.string() }),
  presence: z.object({ type: z.literal('presence'), userId: z.string(), status: z.enum(['online', 'offline']), lastSeen: z.string().optional() }),
  keyChanged: z.object({ type: z.literal('keyChanged'), userId: z.string(), version: z.number().int(), fingerprint: z.string(), identityChanged: z.boolean(), changedAt: z.string() }),
} as const;

// ---- moderation schemas -----------------------------------------------------------------------

export const reportReasons = ['spam', 'harassment', 'hate', 'violence', 'sexual_content', 'child_safety', 'impersonation', 'scam', 'other'] as const;
export const reportStatuses = ['open', 'reviewing', 'actioned', 'dismissed'] as const;
const note = z.string().trim().min(1).max(2000);
export const reportBody = z.strictObject({
  targetUserId: userIdSchema,
  reason: z.enum(reportReasons),
  details: z.string().max(1000, { message: 'At most 1000 characters' }).optional(),
  messageIds: z.array(messageIdSchema).min(1).max(20, { message: 'At most 20 messages' }).optional(),
  /** Plaintext the reporter chooses to reveal for those messages; the server cannot decrypt them. */
  evidence: z.array(z.strictObject({ messageId: messageIdSchema, plaintext: z.string().max(4000) })).max(20).optional(),
  block: z.boolean().optional(),
});
export const myReportSchema = z.object({
  reportId: z.string(),
  targetUserId: z.string(),
  reason: z.enum(reportReasons),
  status: z.enum(reportStatuses),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const reportSchema = myReportSchema.extend({
  reporterId: z.string(),
  details: z.string().optional(),
  messageIds: z.array(z.string()).optional(),
  evidence: z.array(z.object({ messageId: z.string(), plaintext: z.string() })).optional(),
  decision: z.string().optional(),
  moderatorId: z.string().optional(),
  moderatorNote: z.string().optional(),
});
export const resolveBody = z
  .strictObject({ decision: z.enum(['dismiss', 'warn', 'suspend', 'ban']), durationHours: z.number().int().min(1).max(24 * 365).optional(), note })
  .superRefine((v, ctx) => {
    if (v.decision === 'suspend' && v.durationHours === undefined) ctx.addIssue({ code: 'custom', path: ['durationHours'], message: 'A suspension needs durationHours' });
    if (v.decision !== 'suspend' && v.durationHours !== undefined) ctx.addIssue({ code: 'custom', path: ['durationHours'], message: 'Only a suspension takes durationHours' });
  });
export const sanctionSchema = z.object({ userId: z.string(), status: z.enum(['active', 'suspended', 'banned']), suspendedUntil: z.string().optional() });
export const auditSchema = z.object({
  auditId: z.string(),
  at: z.string(),
  actorId: z.string(),
  action: z.string(),
  targetUserId: z.string().optional(),
  reportId: z.string().optional(),
  note: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
const userPath = z.strictObject({ userId: userIdSchema });
const reportPath = z.strictObject({ reportId: z.string().regex(/^r_[0-9a-f]{32}$/, { message: 'Not a report id' }) });
/** Moderator actions on accounts cut live sessions: tokens, families and sockets. */
const sanctionTables = { users: 'readwrite', sessions: 'readwrite', connections: 'readwrite', moderation: 'readwrite' } as const;

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
    authorizer: { id: 'WsTicketAuthorizer', handler: 'functions/ws/authorize.ts', queryParameter: 'ticket', tables: { ephemeral: 'readwrite', users: 'read', sessions: 'read' } },
    access: 'user',
    tables: { connections: 'readwrite', messages: 'read', users: 'read', moderation: 'read' },
    manageConnections: true,
    throttle: { rate: 50, burst: 100 },
    summary: 'Opens a connection with a single-use ticket (?ticket=...), records it and announces presence',
    input: z.strictObject({ ticket: z.string().min(1).max(128) }),
    output: { presence: z.object({ type: z.literal('presence'), userId: z.string(), status: z.enum(['online', 'offline']), lastSeen: z.string().optional() }) },
  }),
  wsDisconnect: ws({
    id: 'WsDisconnect',
    routeKey: '$disconnect',
    handler: 'functions/ws/disconnect.ts',
    access: 'user',
    tables: { connections: 'readwrite', messages: 'read', users: 'readwrite', moderation: 'read' },
    manageConnections: true,
    throttle: { rate: 50, burst: 100 },
    summary: 'Forgets a closed connection; the last one announces offline with lastSeen',
    output: {},
  }),
  sendMessage: ws({
    id: 'WsSendMessage',
    routeKey: 'sendMessage',
    handler: 'functions/ws/send-message.ts',
    access: 'user',
    tables: { messages: 'readwrite', connections: 'readwrite', users: 'read', moderation: 'read' },
    manageConnections: true,
    userLimit: 'sendUser',
    throttle: { rate: 100, burst: 200 },
    summary: 'Stores a ciphertext message (idempotent on clientMessageId), pushes it to every device of both sides, acks the sender',
    input: sendMessageFrame,
    output: { ack: ackFrame, message: messageFrame, error: errorFrame },
  }),
  typing: ws({
    id: 'WsTyping',
    routeKey: 'typing',
    handler: 'functions/ws/typing.ts',
    access: 'user',
    tables: { messages: 'read', connections: 'readwrite', moderation: 'read' },
    manageConnections: true,
    throttle: { rate: 50, burst: 100 },
    summary: 'Tells the conversation partner that the caller is typing (ephemeral)',
    input: typingFrame,
    output: { typing: z.object({ type: z.literal('typing'), from: z.string(), conversationId: z.string() }), error: errorFrame },
  }),
  markRead: ws({
    id: 'WsMarkRead',
    routeKey: 'markRead',
    handler: 'functions/ws/mark-read.ts',
    access: 'user',
    tables: { messages: 'readwrite', connections: 'readwrite', moderation: 'read' },
    manageConnections: true,
    throttle: { rate: 50, burst: 100 },
    summary: 'Stores the read position and sends a read receipt to the partner',
    input: receiptFrame('markRead'),
    output: { read: z.object({ type: z.literal('read'), conversationId: z.string(), by: z.string(), upToMessageId: z.string() }), error: errorFrame },
  }),
  delivered: ws({
    id: 'WsDelivered',
    routeKey: 'delivered',
    handler: 'functions/ws/delivered.ts',
    access: 'user',
    tables: { messages: 'readwrite', connections: 'readwrite', moderation: 'read' },
    manageConnections: true,
    throttle: { rate: 50, burst: 100 },
    summary: 'Stores the delivered position and sends a delivered receipt to the partner',
    input: receiptFrame('delivered'),
    output: { delivered: z.object({ type: z.literal('delivered'), conversationId: z.string(), by: z.string(), upToMessageId: z.string() }), error: errorFrame },
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
    tables: { users: 'read', sessions: 'readwrite', ephemeral: 'readwrite', connections: 'readwrite' },
    manageConnections: true,
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
    tables: { sessions: 'readwrite', connections: 'readwrite' },
    manageConnections: true,
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
    tables: { users: 'readwrite', sessions: 'readwrite', connections: 'readwrite' },
    manageConnections: true,
    throttle: authThrottle,
    summary: 'Ends every session of the account',
    input: {},
    output: {},
  }),
  resetPassword: http({
    id: 'ResetPassword',
    method: 'POST',
    path: '/api/auth/password/reset',
    handler: 'functions/http/auth/reset-password.ts',
    access: 'public',
    tables: { users: 'readwrite', sessions: 'readwrite', ephemeral: 'readwrite', connections: 'readwrite' },
    secrets: ['auth'],
    manageConnections: true,
    memoryMb: hashingMemory,
    throttle: { rate: 5, burst: 10 },
    summary: 'Forgotten password: a "reset" code plus a new password; every session of the account ends',
    input: { body: resetPasswordBody },
    output: {},
  }),
  changePassword: http({
    id: 'ChangePassword',
    method: 'POST',
    path: '/api/auth/password',
    handler: 'functions/http/auth/change-password.ts',
    access: 'user',
    tables: { users: 'readwrite', sessions: 'readwrite', ephemeral: 'readwrite', connections: 'readwrite' },
    manageConnections: true,
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
    tables: { users: 'readwrite', sessions: 'readwrite', keys: 'readwrite', connections: 'readwrite' },
    manageConnections: true,
    throttle: authThrottle,
    summary: 'Deletes the account; its sessions and public keys go with it',
    input: {},
    output: {},
  }),
  createWsTicket: http({
    id: 'CreateWsTicket',
    method: 'POST',
    path: '/api/ws/ticket',
    handler: 'functions/http/realtime/create-ticket.ts',
    access: 'user',
    tables: { ephemeral: 'readwrite' },
    userLimit: 'ticketUser',
    throttle: { rate: 20, burst: 40 },
    summary: 'A single-use WebSocket ticket valid 30 s: connect with ?ticket=... (tokens never go in URLs)',
    input: {},
    output: { 201: z.object({ ticket: z.string(), expiresIn: z.number().int() }) },
  }),
  putPublicKey: http({
    id: 'PutPublicKey',
    method: 'PUT',
    path: '/api/users/public-key',
    handler: 'functions/http/keys/put-public-key.ts',
    access: 'user',
    tables: { keys: 'readwrite', messages: 'read', connections: 'readwrite', moderation: 'read' },
    manageConnections: true,
    userLimit: 'keysUser',
    throttle: { rate: 5, burst: 10 },
    summary: 'Publishes the identity key, box key and signature; verifies, versions, keeps history, tells partners',
    input: { body: putKeyBody },
    output: { 200: publicKeySchema },
  }),
  getOwnPublicKey: http({
    id: 'GetOwnPublicKey',
    method: 'GET',
    path: '/api/users/public-key',
    handler: 'functions/http/keys/get-own-public-key.ts',
    access: 'user',
    tables: { keys: 'read' },
    throttle: { rate: 50, burst: 100 },
    summary: "The caller's current public keys, version and fingerprint",
    input: {},
    output: { 200: publicKeySchema },
  }),
  getUserPublicKey: http({
    id: 'GetUserPublicKey',
    method: 'GET',
    path: '/api/users/{userId}/public-key',
    handler: 'functions/http/keys/get-user-public-key.ts',
    access: 'user',
    tables: { keys: 'read' },
    throttle: { rate: 50, burst: 100 },
    summary: "Another user's current public keys, version and fingerprint",
    input: { path: z.strictObject({ userId: userIdSchema }) },
    output: { 200: publicKeySchema },
  }),
  searchUsers: http({
    id: 'SearchUsers',
    method: 'GET',
    path: '/api/users/search',
    handler: 'functions/http/users/search-users.ts',
    access: 'user',
    tables: { users: 'read' },
    userLimit: 'searchUser',
    throttle: { rate: 20, burst: 40 },
    summary: 'Finds people by exact email or phone, or display-name prefix (public fields only)',
    input: { query: z.strictObject({ q: z.string().trim().min(2).max(254) }) },
    output: { 200: z.object({ users: z.array(z.object({ userId: z.string(), displayName: z.string() })) }) },
  }),
  createConversation: http({
    id: 'CreateConversation',
    method: 'POST',
    path: '/api/conversations',
    handler: 'functions/http/conversations/create-conversation.ts',
    access: 'user',
    tables: { users: 'read', messages: 'readwrite', moderation: 'read', ephemeral: 'readwrite' },
    throttle: { rate: 20, burst: 40 },
    summary: 'The direct conversation with a user, created once (also under concurrent calls)',
    input: { body: z.strictObject({ userId: userIdSchema }) },
    output: { 200: conversationSchema, 201: conversationSchema },
  }),
  listConversations: http({
    id: 'ListConversations',
    method: 'GET',
    path: '/api/conversations',
    handler: 'functions/http/conversations/list-conversations.ts',
    access: 'user',
    tables: { users: 'read', messages: 'read' },
    throttle: { rate: 50, burst: 100 },
    summary: "The caller's conversations, latest activity first, with last-message metadata and unread counts",
    input: { query: z.strictObject({ cursor, limit: z.coerce.number().int().min(1).max(50).optional() }) },
    output: { 200: z.object({ conversations: z.array(conversationSchema), cursor: z.string().optional() }) },
  }),
  listMessages: http({
    id: 'ListMessages',
    method: 'GET',
    path: '/api/conversations/{conversationId}/messages',
    handler: 'functions/http/conversations/list-messages.ts',
    access: 'user',
    tables: { messages: 'read' },
    throttle: { rate: 50, burst: 100 },
    summary: 'Ciphertext history, newest first, paged by a `before` cursor; members only',
    input: {
      path: z.strictObject({ conversationId: conversationIdSchema }),
      query: z.strictObject({ before: messageIdSchema.optional(), limit: z.coerce.number().int().min(1).max(100).optional() }),
    },
    output: { 200: z.object({ messages: z.array(messageSchema), before: z.string().optional() }) },
  }),
  postMessage: http({
    id: 'PostMessage',
    method: 'POST',
    path: '/api/conversations/{conversationId}/messages',
    handler: 'functions/http/conversations/post-message.ts',
    access: 'user',
    tables: { messages: 'readwrite', connections: 'readwrite', users: 'read', moderation: 'read' },
    manageConnections: true,
    userLimit: 'sendUser',
    throttle: { rate: 50, burst: 100 },
    summary: 'Sends like the sendMessage action (same idempotency) for clients without a socket',
    input: { path: z.strictObject({ conversationId: conversationIdSchema }), body: postMessageBody },
    output: { 200: ackSchema, 201: ackSchema },
  }),
  syncMessages: http({
    id: 'SyncMessages',
    method: 'GET',
    path: '/api/messages/sync',
    handler: 'functions/http/conversations/sync-messages.ts',
    access: 'user',
    tables: { messages: 'read' },
    throttle: { rate: 50, burst: 100 },
    summary: "Everything sent or received after a cursor, in order, exactly once across reconnects",
    input: { query: z.strictObject({ after: z.coerce.number().int().min(0).optional(), limit: z.coerce.number().int().min(1).max(100).optional() }) },
    output: { 200: z.object({ messages: z.array(messageSchema.extend({ seq: z.number().int() })), cursor: z.number().int(), hasMore: z.boolean() }) },
  }),
  blockUser: http({
    id: 'BlockUser',
    method: 'POST',
    path: '/api/users/{userId}/block',
    handler: 'functions/http/moderation/block-user.ts',
    access: 'user',
    tables: { users: 'read', moderation: 'readwrite' },
    throttle: { rate: 20, burst: 40 },
    summary: 'Blocks a user (idempotent): nothing from them reaches you, and they are not told',
    input: { path: userPath },
    output: { 200: z.object({ userId: z.string(), blockedAt: z.string() }) },
  }),
  unblockUser: http({
    id: 'UnblockUser',
    method: 'DELETE',
    path: '/api/users/{userId}/block',
    handler: 'functions/http/moderation/unblock-user.ts',
    access: 'user',
    tables: { moderation: 'readwrite' },
    throttle: { rate: 20, burst: 40 },
    summary: 'Unblocks a user (idempotent); future messages flow again, earlier ones stay undelivered',
    input: { path: userPath },
    output: {},
  }),
  listBlocked: http({
    id: 'ListBlocked',
    method: 'GET',
    path: '/api/users/blocked',
    handler: 'functions/http/moderation/list-blocked.ts',
    access: 'user',
    tables: { users: 'read', moderation: 'read' },
    throttle: { rate: 20, burst: 40 },
    summary: 'The users the caller blocks, newest first, paginated',
    input: { query: z.strictObject({ cursor, limit: z.coerce.number().int().min(1).max(100).optional() }) },
    output: { 200: z.object({ blocked: z.array(z.object({ userId: z.string(), displayName: z.string().optional(), blockedAt: z.string() })), cursor: z.string().optional() }) },
  }),
  createReport: http({
    id: 'CreateReport',
    method: 'POST',
    path: '/api/reports',
    handler: 'functions/http/moderation/create-report.ts',
    access: 'user',
    tables: { users: 'readwrite', messages: 'read', moderation: 'readwrite', ephemeral: 'readwrite' },
    throttle: { rate: 10, burst: 20 },
    summary: 'Reports a user, optionally with messages and the plaintext the reporter chooses to reveal; idempotent',
    input: { body: reportBody },
    output: { 200: myReportSchema, 201: myReportSchema },
  }),
  listMyReports: http({
    id: 'ListMyReports',
    method: 'GET',
    path: '/api/reports/mine',
    handler: 'functions/http/moderation/list-my-reports.ts',
    access: 'user',
    tables: { moderation: 'read' },
    throttle: { rate: 20, burst: 40 },
    summary: "The status of the caller's reports (never the moderator's notes)",
    input: { query: z.strictObject({ cursor, limit: z.coerce.number().int().min(1).max(100).optional() }) },
    output: { 200: z.object({ reports: z.array(myReportSchema), cursor: z.string().optional() }) },
  }),
  adminListReports: http({
    id: 'AdminListReports',
    method: 'GET',
    path: '/api/admin/reports',
    handler: 'functions/http/admin/list-reports.ts',
    access: 'moderator',
    tables: { moderation: 'read', users: 'read' },
    throttle: { rate: 20, burst: 40 },
    summary: 'The moderation queue: oldest first by status (default open), filterable by reason',
    input: { query: z.strictObject({ status: z.enum(reportStatuses).optional(), reason: z.enum(reportReasons).optional(), cursor, limit: z.coerce.number().int().min(1).max(100).optional() }) },
    output: { 200: z.object({ reports: z.array(reportSchema), cursor: z.string().optional() }) },
  }),
  adminGetReport: http({
    id: 'AdminGetReport',
    method: 'GET',
    path: '/api/admin/reports/{reportId}',
    handler: 'functions/http/admin/get-report.ts',
    access: 'moderator',
    tables: { moderation: 'readwrite' },
    throttle: { rate: 20, burst: 40 },
    summary: "One report (an open one moves to reviewing) with the target's report history",
    input: { path: reportPath },
    output: { 200: z.object({ report: reportSchema, targetHistory: z.array(reportSchema) }) },
  }),
  adminResolveReport: http({
    id: 'AdminResolveReport',
    method: 'POST',
    path: '/api/admin/reports/{reportId}/resolve',
    handler: 'functions/http/admin/resolve-report.ts',
    access: 'moderator',
    tables: sanctionTables,
    manageConnections: true,
    throttle: { rate: 10, burst: 20 },
    summary: 'Decides a report: dismiss, warn, suspend (durationHours) or ban; written to the audit log',
    input: { path: reportPath, body: resolveBody },
    output: { 200: z.object({ report: reportSchema }) },
  }),
  adminSuspendUser: http({
    id: 'AdminSuspendUser',
    method: 'POST',
    path: '/api/admin/users/{userId}/suspend',
    handler: 'functions/http/admin/suspend-user.ts',
    access: 'moderator',
    tables: sanctionTables,
    manageConnections: true,
    throttle: { rate: 10, burst: 20 },
    summary: 'Suspends an account for durationHours, at once: sessions revoked, sockets closed',
    input: { path: userPath, body: z.strictObject({ durationHours: z.number().int().min(1).max(24 * 365), note }) },
    output: { 200: sanctionSchema },
  }),
  adminBanUser: http({
    id: 'AdminBanUser',
    method: 'POST',
    path: '/api/admin/users/{userId}/ban',
    handler: 'functions/http/admin/ban-user.ts',
    access: 'moderator',
    tables: sanctionTables,
    manageConnections: true,
    throttle: { rate: 10, burst: 20 },
    summary: 'Bans an account, at once: sessions revoked, sockets closed',
    input: { path: userPath, body: z.strictObject({ note }) },
    output: { 200: sanctionSchema },
  }),
  adminRestoreUser: http({
    id: 'AdminRestoreUser',
    method: 'POST',
    path: '/api/admin/users/{userId}/restore',
    handler: 'functions/http/admin/restore-user.ts',
    access: 'moderator',
    tables: sanctionTables,
    throttle: { rate: 10, burst: 20 },
    summary: 'Lifts a suspension, ban or auto-restriction',
    input: { path: userPath, body: z.strictObject({ note }) },
    output: { 200: sanctionSchema },
  }),
  adminAudit: http({
    id: 'AdminAudit',
    method: 'GET',
    path: '/api/admin/audit',
    handler: 'functions/http/admin/list-audit.ts',
    access: 'admin',
    tables: { moderation: 'read' },
    throttle: { rate: 10, burst: 20 },
    summary: 'The append-only audit log of moderator actions, newest first',
    input: { query: z.strictObject({ cursor, limit: z.coerce.number().int().min(1).max(100).optional() }) },
    output: { 200: z.object({ entries: z.array(auditSchema), cursor: z.string().optional() }) },
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
