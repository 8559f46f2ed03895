// The local stand-in for API Gateway's WebSocket API and its @connections management API, on one
// port. Upgrade -> $connect (a non-2xx result refuses it); frame -> the route named by its `action`
// field, else $default; close -> $disconnect. POST/GET/DELETE /@connections/{id} as in AWS (410 if gone).
// Every HTTP answer it makes itself (refused upgrades, @connections) carries the Middy stack's security headers.
// One liberty, for the close codes (contract/realtime/close-codes.ts): AWS's DELETE takes no close code,
// so the server posts an error frame naming it (`close: { code, reason }`) first; a DELETE after such
// a frame closes with that code and reason here, as the SDK does on AWS when it reads the frame.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { stageThrottle, wsRoutes, type WsRoute } from '../lib/routes.ts';
import { clientIp, lambdaContext, loadHandler, Throttler, type AnyHandler } from './lambda.ts';

/** API Gateway WebSocket limits: 128 KB per message, 2 h per connection, 10 min idle. */
export const WS_MESSAGE_LIMIT = 128 * 1024;

interface Live {
  socket: WebSocket;
  /** The $connect authorizer's context, repeated on every event of the connection as in AWS. */
  authorizer?: Record<string, unknown>;
  connectedAt: number;
  lastActiveAt: number;
  sourceIp: string;
  userAgent: string;
  /** The `close` of the last error frame posted to this connection: a DELETE closes with it. */
  closeWith?: { code: number; reason: string };
}

interface Target {
  route: WsRoute;
  handler: AnyHandler;
}

export interface WsGateway {
  connections: Map<string, Live>;
  /** Closes every open socket (each runs $disconnect) and waits for them. */
  closeAll(): Promise<void>;
}

function newConnectionId(): string {
  return `${randomBytes(11).toString('base64url')}=`;
}

/** A map for keys a client chooses: `__proto__` or `constructor` stay plain entries, as in the JSON event Lambda gets. */
function clientMap(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

/** An error frame's `close` (a code of ours, 4000-4999, and a reason that fits a close frame), if the data is one. */
function closeOf(text: string): { code: number; reason: string } | undefined {
  if (!text.includes('"close"')) return undefined;
  try {
    const frame = JSON.parse(text) as { type?: unknown; close?: { code?: unknown; reason?: unknown } } | null;
    const { code, reason } = frame?.type === 'error' ? (frame.close ?? {}) : {};
    if (Number.isInteger(code) && (code as number) >= 4000 && (code as number) <= 4999 && typeof reason === 'string' && Buffer.byteLength(reason) <= 123) {
      return { code: code as number, reason };
    }
  } catch {
    // not JSON: an ordinary message
  }
  return undefined;
}

function gatewayError(message: string, connectionId: string, requestId: string): string {
  return JSON.stringify({ message, connectionId, requestId });
}

/** Attaches the WebSocket gateway and the @connections API to an HTTP server. */
export async function attachWsGateway(
  server: Server,
  options: { domainName: string; stage?: string; throttleScale?: number; clock?: { now(): number } },
): Promise<WsGateway> {
  const targets = new Map<string, Target>();
  for (const route of wsRoutes) targets.set(route.routeKey, { route, handler: await loadHandler(route) });
  for (const key of ['$connect', '$disconnect', '$default']) if (!targets.has(key)) throw new Error(`manifest lacks ${key}`);
  const connectRoute = targets.get('$connect')!.route;
  const authorizer = connectRoute.authorizer
    ? { route: connectRoute.authorizer, handler: await loadHandler({ ...connectRoute, handler: connectRoute.authorizer.handler }) }
    : undefined;
  const connections = new Map<string, Live>();
  const disconnects = new Set<Promise<void>>();
  const throttler = new Throttler(options.throttleScale, options.clock);
  const stage = options.stage ?? 'local';
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MESSAGE_LIMIT });
  // Loaded here, not at the top: the stack reads its environment (LOG_LEVEL...) when first imported.
  const { stackHeaders } = await import('../functions/middleware/http-handler.ts');
  const security = await stackHeaders();
  const rawSecurity = Object.entries(security)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');

  const baseContext = (
    routeKey: string,
    eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT',
    connectionId: string,
    live: Pick<Live, 'connectedAt' | 'sourceIp' | 'userAgent' | 'authorizer'>,
  ) => {
    const now = Date.now();
    return {
      ...(live.authorizer ? { authorizer: live.authorizer } : {}),
      routeKey,
      eventType,
      messageDirection: 'IN',
      connectionId,
      connectedAt: live.connectedAt,
      requestTimeEpoch: now,
      requestTime: new Date(now).toUTCString(),
      domainName: options.domainName,
      stage,
      apiId: 'local',
      requestId: randomUUID(),
      extendedRequestId: randomUUID(),
      identity: { sourceIp: live.sourceIp, userAgent: live.userAgent },
    };
  };

  const invoke = async (
    target: Target,
    event: { requestContext: { requestId: string }; [k: string]: unknown },
  ): Promise<{ statusCode?: number; body?: string } | undefined> => target.handler(event, lambdaContext(target.route));

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const connectionId = newConnectionId();
    const live: Pick<Live, 'connectedAt' | 'sourceIp' | 'userAgent' | 'authorizer'> = {
      connectedAt: Date.now(),
      sourceIp: clientIp(req.socket.remoteAddress),
      userAgent: String(req.headers['user-agent'] ?? ''),
    };
    const reasons: Record<number, string> = {
      400: 'Bad Request',
      401: 'Unauthorized',
      403: 'Forbidden',
      429: 'Too Many Requests',
      500: 'Internal Server Error',
    };
    const refuse = (status: number, body = '') => {
      socket.end(
        `HTTP/1.1 ${status} ${reasons[status] ?? 'Error'}\r\n${rawSecurity}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    const connect = targets.get('$connect')!;
    if (
      !throttler.take('$stage', stageThrottle.rate, stageThrottle.burst) ||
      !throttler.take('$connect', connect.route.throttle.rate, connect.route.throttle.burst)
    ) {
      return refuse(429, JSON.stringify({ message: 'Too Many Requests' }));
    }
    const query = clientMap();
    for (const [k, v] of url.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
    const headers = clientMap();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
    if (authorizer) {
      // API Gateway answers 401 itself when the identity source is missing, without invoking the authorizer.
      if (!query[authorizer.route.queryParameter]) return refuse(401, JSON.stringify({ message: 'Unauthorized' }));
      const authEvent = {
        type: 'REQUEST',
        methodArn: `arn:aws:execute-api:us-east-1:000000000000:local/${stage}/$connect`,
        headers,
        multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.split(',')])),
        queryStringParameters: query,
        multiValueQueryStringParameters: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
        stageVariables: {},
        requestContext: baseContext('$connect', 'CONNECT', connectionId, live),
      };
      let policy: { principalId?: string; policyDocument?: { Statement?: { Effect?: string }[] }; context?: Record<string, unknown> };
      try {
        policy = await authorizer.handler(authEvent, lambdaContext(connect.route));
      } catch (error) {
        const unauthorized = (error as Error)?.message === 'Unauthorized';
        return refuse(unauthorized ? 401 : 500, JSON.stringify({ message: unauthorized ? 'Unauthorized' : 'Internal server error' }));
      }
      const allowed = policy?.policyDocument?.Statement?.every((st) => st.Effect === 'Allow') && policy.policyDocument.Statement.length > 0;
      if (!allowed) return refuse(403, JSON.stringify({ message: 'Forbidden' }));
      live.authorizer = { principalId: policy.principalId, ...policy.context };
    }
    const event = {
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.split(',')])),
      ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
      requestContext: baseContext('$connect', 'CONNECT', connectionId, live),
      isBase64Encoded: false,
    };
    let result: { statusCode?: number; body?: string } | undefined;
    try {
      result = await invoke(connect, event);
    } catch {
      return refuse(500, JSON.stringify({ message: 'Internal server error' }));
    }
    const status = result?.statusCode ?? 200;
    if (status < 200 || status > 299) return refuse(status, result?.body ?? '');
    wss.handleUpgrade(req, socket, head, (ws) => {
      connections.set(connectionId, { socket: ws, ...live, lastActiveAt: Date.now() });
      ws.on('message', (data, isBinary) => void onMessage(connectionId, data, isBinary));
      ws.on('close', (code, reason) => {
        const done = onClose(connectionId, code, reason.toString());
        disconnects.add(done);
        void done.finally(() => disconnects.delete(done));
      });
      ws.on('error', () => ws.terminate());
    });
  }

  async function onMessage(connectionId: string, data: RawData, isBinary: boolean): Promise<void> {
    const live = connections.get(connectionId);
    if (!live) return;
    live.lastActiveAt = Date.now();
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    const body = isBinary ? buf.toString('base64') : buf.toString('utf8');
    let routeKey = '$default';
    if (!isBinary) {
      try {
        const action = (JSON.parse(body) as { action?: unknown })?.action;
        if (typeof action === 'string' && !action.startsWith('$') && targets.has(action)) routeKey = action;
      } catch {
        // not JSON: $default, as API Gateway's route selection does
      }
    }
    const target = targets.get(routeKey)!;
    const requestContext = baseContext(routeKey, 'MESSAGE', connectionId, live);
    if (
      !throttler.take('$stage', stageThrottle.rate, stageThrottle.burst) ||
      !throttler.take(routeKey, target.route.throttle.rate, target.route.throttle.burst)
    ) {
      live.socket.send(gatewayError('Too Many Requests', connectionId, requestContext.requestId));
      return;
    }
    try {
      await invoke(target, { requestContext, body, isBase64Encoded: isBinary });
    } catch {
      live.socket.send(gatewayError('Internal server error', connectionId, requestContext.requestId));
    }
  }

  async function onClose(connectionId: string, code: number, reason: string): Promise<void> {
    const live = connections.get(connectionId);
    if (!live) return;
    connections.delete(connectionId);
    const requestContext = { ...baseContext('$disconnect', 'DISCONNECT', connectionId, live), disconnectStatusCode: code, disconnectReason: reason };
    try {
      await invoke(targets.get('$disconnect')!, { headers: {}, requestContext, isBase64Encoded: false });
    } catch {
      // API Gateway ignores $disconnect failures too
    }
  }

  function onManagement(req: IncomingMessage, res: ServerResponse): void {
    const m = /^\/(?:[^/]+\/)?@connections\/([^/]+)$/.exec(new URL(req.url ?? '/', 'http://localhost').pathname);
    const reply = (status: number, body?: unknown, errorType?: string) => {
      res.writeHead(status, { ...security, 'content-type': 'application/json', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (!m) return reply(404, { message: 'Not Found' });
    let connectionId: string;
    try {
      connectionId = decodeURIComponent(m[1]!);
    } catch {
      return reply(400, { message: 'Invalid connection id' }, 'BadRequestException');
    }
    const live = connections.get(connectionId);
    const gone = () => reply(410, { message: `Connection ${connectionId} is gone` }, 'GoneException');
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= WS_MESSAGE_LIMIT) chunks.push(c);
      });
      req.on('end', () => {
        if (size > WS_MESSAGE_LIMIT) return reply(413, { message: 'Message too long' }, 'PayloadTooLargeException');
        const current = connections.get(connectionId);
        if (!current || current.socket.readyState !== current.socket.OPEN) return gone();
        const text = Buffer.concat(chunks).toString('utf8');
        current.closeWith = closeOf(text) ?? current.closeWith;
        current.socket.send(text);
        reply(200);
      });
      return;
    }
    if (!live) return gone();
    if (req.method === 'GET') {
      return reply(200, {
        connectedAt: new Date(live.connectedAt).toISOString(),
        identity: { sourceIp: live.sourceIp, userAgent: live.userAgent },
        lastActiveAt: new Date(live.lastActiveAt).toISOString(),
      });
    }
    if (req.method === 'DELETE') {
      live.socket.close(live.closeWith?.code ?? 1000, live.closeWith?.reason ?? 'Going away');
      return reply(204);
    }
    reply(405, { message: 'Method Not Allowed' });
  }

  server.on('request', onManagement);
  server.on('upgrade', (req, socket, head) => void onUpgrade(req, socket, head));
  server.on('close', () => wss.close());
  return {
    connections,
    async closeAll() {
      for (const live of connections.values()) live.socket.close(1001, 'Server shutting down');
      const deadline = Date.now() + 3000;
      while (connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await Promise.all(disconnects);
    },
  };
}
