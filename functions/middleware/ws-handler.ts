// wsHandler(): the Middy stack every WebSocket route runs in. $connect validates the query string
// and answers with a status code (non-2xx refuses the upgrade); message routes parse and validate the
// JSON frame and report every failure to the caller as an error frame; all log one JSON line.
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Parsed, RateLimitName, WsContract, WsFrame } from '#contract/route.ts';
import { empty } from '#contract/common.ts';
import { closeFor, type CloseInfo } from '#contract/realtime/close-codes.ts';
import { errorFrame as errorFrameSchema } from '#contract/realtime/frames.ts';
import { BadRequest, DomainError, PayloadTooLarge, Unauthorized } from '#core/errors.ts';
import type { AuthContext } from '#core/authn.ts';
import type { ConnectionsPort, FamilyRecord, UserRecord } from '#core/ports.ts';
import { config } from '#wiring/platform.ts';
import { connections } from '#wiring/realtime.ts';
import { mapError, outgoingError, shapeOutput, validate } from './common.ts';
import { logger } from './logger.ts';

/** What a signed-in WebSocket route checks on every frame (built by functions/wiring/auth.ts). */
export interface SocketGate {
  liveSession(userId: string, sessionId: string): Promise<AuthContext>;
  /** liveSession's verdict over records the handler read itself (sessionCheck: 'handler'). */
  checkSession(user: UserRecord | undefined, family: FamilyRecord | undefined): AuthContext;
  limit(name: RateLimitName, key: string): Promise<void>;
}

/** The fields of API Gateway's WebSocket proxy event that our handlers read. */
export interface WsEvent {
  requestContext: {
    routeKey: string;
    eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
    connectionId: string;
    connectedAt: number;
    domainName: string;
    stage: string;
    requestId: string;
    apiId?: string;
    identity?: { sourceIp?: string; userAgent?: string };
    /** The $connect authorizer's context; API Gateway repeats it on every event of the connection. */
    authorizer?: { principalId?: string; userId?: string; sessionId?: string } | null;
    disconnectStatusCode?: number;
    disconnectReason?: string;
  };
  body?: string;
  isBase64Encoded?: boolean;
  headers?: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined> | null;
}

export interface WsResult {
  statusCode: number;
  body?: string;
}

export interface WsRequest<C extends WsContract> {
  /** $connect: the validated query string; message routes: the validated frame. */
  readonly input: Parsed<C['input']>;
  readonly event: WsEvent;
  readonly context: Context;
  readonly connectionId: string;
  /** The signed-in user on `user` routes (from the authorizer context, else the connection row). */
  readonly userId: C['access'] extends 'public' ? undefined : string;
  /** The session whose ticket opened the connection. */
  readonly sessionId: string | undefined;
  readonly sourceIp: string;
  /** The @connections endpoint of this API stage. */
  readonly endpoint: string;
  /** Sends a frame to the calling connection, through the route's schema for that frame type. */
  reply(frame: WsFrame<C>): Promise<void>;
  /**
   * The frame's session check (and the route's per-user limit), settled before the handler runs.
   * With sessionCheck 'handler' it is never settled: use checkSession and admitted instead.
   */
  readonly session: Promise<AuthContext>;
  /**
   * sessionCheck 'handler': the frame's session check over the user record and session family the
   * handler read in its own first round. Throws when the session has ended (the middleware then sends
   * the error frame and closes the socket, as for its own check).
   */
  checkSession(user: UserRecord | undefined, family: FamilyRecord | undefined): AuthContext;
  /** sessionCheck 'handler': the route's per-user limit, started with the handler; await it before writing. */
  readonly admitted: Promise<void>;
}

export interface WsHandlerOptions {
  /**
   * 'handler': the route reads the session family and the user itself, in its first round of reads,
   * and calls checkSession on them before it writes; the per-user limit starts with the handler
   * (admitted). The check still runs on every frame, and an ended session still gets its error frame
   * and a closed socket. Default 'middleware': both are settled before the handler runs.
   */
  sessionCheck?: 'middleware' | 'handler';
}

/**
 * An error's `retryAfterSeconds` (429 rate_limited, 503 throttled/unavailable) also rides at the top
 * level; `close` says the socket is ended next, with which close code (contract/realtime/close-codes.ts).
 */
export function errorFrame(code: string, message: string, details?: unknown, close?: CloseInfo, echo: FrameEcho = {}) {
  const retryAfterSeconds = (details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  return shapeOutput(
    errorFrameSchema,
    {
      type: 'error',
      ...echo,
      ...outgoingError(code, message, details).error,
      ...(typeof retryAfterSeconds === 'number' ? { retryAfterSeconds } : {}),
      ...(close ? { close } : {}),
    },
    'error frame',
  );
}

/** What an error frame repeats of the frame it answers, so a client can tell which of its sends failed. */
type FrameEcho = { action?: string; clientMessageId?: string };

/** The frame's action and clientMessageId, when they are well formed (never reflects anything else). */
function echoOf(frame: unknown): FrameEcho {
  const f = frame as { action?: unknown; clientMessageId?: unknown } | null;
  const echo: FrameEcho = {};
  if (typeof f?.action === 'string' && /^[A-Za-z]{1,32}$/.test(f.action)) echo.action = f.action;
  if (typeof f?.clientMessageId === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(f.clientMessageId)) echo.clientMessageId = f.clientMessageId;
  return echo;
}

function parseFrame(event: WsEvent): unknown {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  const { wsMaxFrameBytes } = config().limits;
  if (Buffer.byteLength(text) > wsMaxFrameBytes) throw new PayloadTooLarge(wsMaxFrameBytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest('Frame is not valid JSON; send {"action": ...}', 'invalid_json');
  }
}

async function callerOf(event: WsEvent, sockets: ConnectionsPort): Promise<{ userId: string; sessionId?: string } | undefined> {
  const auth = event.requestContext.authorizer;
  if (auth?.userId) return { userId: auth.userId, ...(auth.sessionId ? { sessionId: auth.sessionId } : {}) };
  if (event.requestContext.eventType === 'CONNECT') return undefined;
  return sockets.ownerOf(event.requestContext.connectionId);
}

/** The stage's @connections URL as the event names it (used when WS_CALLBACK_URL is not set). */
function callbackUrl(requestContext: { domainName?: string; stage?: string }): string {
  return `https://${requestContext.domainName}/${requestContext.stage}`;
}

/** `wsHandler(contract).handle(impl)`: the contract is fixed first, then `impl`'s replies are checked against it. */
export function wsHandler<const C extends WsContract>(contract: C, ...gate: C['access'] extends 'public' ? [] : [gate: () => SocketGate]) {
  return {
    handle: (impl: (req: WsRequest<C>) => Promise<void>, opts: WsHandlerOptions = {}) => buildWsHandler(contract, gate[0], impl, opts),
  };
}

/** A session check that failed with a domain error (ended, revoked, suspended): the socket is ended. */
class SessionEnded extends Error {
  override readonly cause: DomainError;
  constructor(cause: DomainError) {
    super(cause.message);
    this.cause = cause;
  }
}

function buildWsHandler<C extends WsContract>(
  route: C,
  gate: (() => SocketGate) | undefined,
  impl: (req: WsRequest<C>) => Promise<void>,
  opts: WsHandlerOptions,
) {
  if (route.access !== 'public' && !gate) throw new Error(`${route.id} is signed-in but has no gate`);
  return middy<WsEvent, WsResult>().handler(async (event, context) => {
    const started = performance.now();
    const ctx = event.requestContext;
    const endpoint = config().wsCallbackUrl ?? callbackUrl(ctx);
    const sockets = connections(endpoint);
    const send = async (frame: unknown) => {
      await sockets.send(ctx.connectionId, frame);
    };
    const reply = async (frame: WsFrame<C>) => {
      const type = (frame as { type: string }).type;
      const schema = route.output[type];
      if (!schema) throw new Error(`${route.id} replied with a "${type}" frame, which its contract does not declare`);
      await send(shapeOutput(schema, frame, `${type} frame of ${route.id}`));
    };
    let status = 200;
    let echo: FrameEcho = {};
    try {
      const caller = route.access === 'public' ? undefined : await callerOf(event, sockets);
      const userId = caller?.userId;
      if (route.access !== 'public' && !userId && ctx.eventType !== 'DISCONNECT') {
        throw new Unauthorized('This connection has no signed-in user; reconnect with a fresh ticket', 'not_signed_in');
      }
      // Every frame of a signed-in connection re-checks its session: logout, password change,
      // deletion and sanctions end the socket's rights at once, not at reconnect.
      let session: Promise<AuthContext> = Promise.reject(new Error(`${route.id} has no session check`));
      session.catch(() => undefined);
      let admitted: Promise<void> = Promise.resolve();
      let checkSession: WsRequest<C>['checkSession'] = () => {
        throw new Error(`${route.id} checks its session in the middleware`);
      };
      if (route.access !== 'public' && ctx.eventType === 'MESSAGE') {
        if (!caller?.sessionId) throw new SessionEnded(new Unauthorized('This connection has no session; reconnect with a fresh ticket', 'not_signed_in'));
        const limited = route.userLimit ? gate!().limit(route.userLimit, caller.userId) : Promise.resolve();
        if (opts.sessionCheck === 'handler') {
          admitted = limited;
          admitted.catch(() => undefined);
          checkSession = (user, family) => {
            try {
              if (user && user.userId !== caller.userId) throw new Unauthorized('This session has ended; refresh or sign in again', 'token_revoked');
              return gate!().checkSession(user, family);
            } catch (error) {
              throw error instanceof DomainError ? new SessionEnded(error) : error;
            }
          };
        } else {
          const check = gate!()
            .liveSession(caller.userId, caller.sessionId)
            .catch((error: unknown) => {
              throw error instanceof DomainError ? new SessionEnded(error) : error; // a failing database is not an ended session
            });
          // the session's verdict comes first: an ended session is refused as such, whatever the limit says
          session = Promise.allSettled([check, limited]).then(([c, l]) => {
            if (c.status === 'rejected') throw c.reason;
            if (l.status === 'rejected') throw l.reason;
            return c.value;
          });
          await session;
        }
      }
      let input: unknown;
      try {
        input =
          ctx.eventType === 'CONNECT'
            ? validate(route.input ?? empty, event.queryStringParameters ?? {}, 'query')
            : ctx.eventType === 'MESSAGE'
              ? (() => {
                  const frame = parseFrame(event);
                  echo = echoOf(frame);
                  return route.input ? validate(route.input, frame, 'frame') : frame;
                })()
              : undefined;
      } catch (invalid) {
        // sessionCheck 'handler' checks the session in the handler, which a bad frame never reaches:
        // an ended session is still refused as such (and its socket closed), whatever else is wrong
        if (opts.sessionCheck === 'handler' && route.access !== 'public' && ctx.eventType === 'MESSAGE' && caller?.sessionId) {
          await gate!()
            .liveSession(caller.userId, caller.sessionId)
            .catch((error: unknown) => {
              throw error instanceof DomainError ? new SessionEnded(error) : error;
            });
        }
        throw invalid;
      }
      await impl({
        input: input as Parsed<C['input']>,
        event,
        context,
        connectionId: ctx.connectionId,
        userId: userId as WsRequest<C>['userId'],
        sessionId: caller?.sessionId,
        sourceIp: ctx.identity?.sourceIp ?? 'unknown',
        endpoint,
        reply,
        session,
        checkSession,
        admitted,
      });
      return { statusCode: 200 };
    } catch (caught) {
      const error = caught;
      if (error instanceof SessionEnded) {
        status = 401;
        // token_revoked, account_suspended, account_banned, not_signed_in: each has its close code
        const { code, message, details } = error.cause;
        await send(errorFrame(code, message, details, closeFor(code) ?? closeFor('token_revoked'), echo)).catch(() => undefined);
        await sockets.end(ctx.connectionId).catch(() => undefined);
        return { statusCode: 200 };
      }
      const mapped = mapError(error, { route: route.id, requestId: ctx.requestId });
      status = mapped.status;
      if (ctx.eventType === 'MESSAGE') {
        await send(errorFrame(mapped.code, mapped.message, mapped.details, undefined, echo)).catch(() => undefined);
        return { statusCode: 200 };
      }
      return { statusCode: mapped.status, body: JSON.stringify(outgoingError(mapped.code, mapped.message, mapped.details)) };
    } finally {
      logger.info('ws event', {
        route: route.id,
        routeKey: ctx.routeKey,
        eventType: ctx.eventType,
        connectionId: ctx.connectionId,
        status,
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
        requestId: ctx.requestId,
      });
    }
  });
}
