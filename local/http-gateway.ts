// The local stand-in for API Gateway's HTTP API: matches a request to a manifest route, builds the
// APIGatewayProxyEventV2 (payload format 2.0) and maps the handler's result back, as AWS does.
// The answers it makes itself (404, 413, 429...) carry the Middy stack's security headers; API
// Gateway's own do not (see the README), so this is stricter than AWS on purpose.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { corsPolicy } from '../lib/cors.ts';
import { httpRouteKey, httpRoutes, stageThrottle, type HttpRoute } from '../lib/routes.ts';
import { clientIp, lambdaContext, loadHandler, Throttler, type AnyHandler } from './lambda.ts';

/** API Gateway's own limit on a request payload. */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;
const textual = /^(application\/(?:[\w.+-]+\+)?json|text\/|application\/x-www-form-urlencoded)/i;

interface Compiled {
  route: HttpRoute;
  pattern: RegExp;
  params: string[];
  handler: AnyHandler;
}

function compile(path: string): { pattern: RegExp; params: string[] } {
  const params: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      const m = /^\{(\w+)(\+?)\}$/.exec(segment);
      if (!m) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(m[1]!);
      return m[2] ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { pattern: new RegExp(`^${source}$`), params };
}

/** A map for keys a client chooses: `__proto__` or `constructor` stay plain entries, as in the JSON event Lambda gets. */
function clientMap(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

/** An answer the gateway makes itself: API Gateway's `{"message"}` body, plus the stack's security headers. */
function send(res: ServerResponse, security: Record<string, string>, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...security, 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ message }));
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  // A declared length over the limit is refused before reading (and without waiting for) the body.
  if (Number(req.headers['content-length'] ?? 0) > GATEWAY_MAX_BODY) return 'too-large';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > GATEWAY_MAX_BODY) return 'too-large';
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function toEventV2(req: IncomingMessage, url: URL, route: HttpRoute, pathParameters: Record<string, string>, body: Buffer): APIGatewayProxyEventV2 {
  const headers = clientMap();
  const cookies: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((c) => c.trim())
          .filter(Boolean),
      );
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const query = clientMap();
  for (const [k, v] of url.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const isText = body.length === 0 || textual.test(headers['content-type'] ?? '');
  const now = new Date();
  const sourceIp = clientIp(req.socket.remoteAddress);
  const routeKey = httpRouteKey(route);
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0]!,
      http: { method: req.method ?? 'GET', path: url.pathname, protocol: `HTTP/${req.httpVersion}`, sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !isText,
  };
}

/** Payload format 2.0: a result without statusCode is a 200 JSON body, as API Gateway infers. */
function writeResult(res: ServerResponse, result: unknown): void {
  if (!result || typeof result !== 'object' || !('statusCode' in result)) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(typeof result === 'string' ? result : JSON.stringify(result));
    return;
  }
  const r = result as APIGatewayProxyStructuredResultV2;
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) if (v !== undefined) headers[k] = String(v);
  if (r.cookies?.length) headers['set-cookie'] = r.cookies;
  res.writeHead(r.statusCode ?? 200, headers);
  res.end(r.body === undefined ? undefined : r.isBase64Encoded ? Buffer.from(r.body, 'base64') : r.body);
}

/** Adds the CORS headers API Gateway would for an allowed origin; true when it was a preflight. */
function applyCors(req: IncomingMessage, res: ServerResponse, origins: readonly string[], security: Record<string, string>): boolean {
  const origin = req.headers.origin;
  if (!origin || !origins.includes(origin)) return false;
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('access-control-allow-credentials', 'true');
  res.setHeader('vary', 'origin');
  if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
    res.setHeader('access-control-allow-methods', corsPolicy.allowMethods.join(','));
    res.setHeader('access-control-allow-headers', corsPolicy.allowHeaders.join(','));
    res.setHeader('access-control-max-age', String(corsPolicy.maxAgeSeconds));
    res.writeHead(204, security);
    res.end();
    return true;
  }
  res.setHeader('access-control-expose-headers', corsPolicy.exposeHeaders.join(','));
  return false;
}

/** Attaches the HTTP API gateway to a server (listening already, so its port is known). */
export async function attachHttpGateway(
  server: Server,
  options: {
    throttleScale?: number;
    corsOrigins?: readonly string[];
    clock?: { now(): number };
    /** The web app's pages (local/web.ts): answers GET of its own few paths, returns false for the rest. */
    site?: (req: IncomingMessage, res: ServerResponse, security: Record<string, string>) => boolean;
  } = {},
): Promise<void> {
  const compiled: Compiled[] = [];
  for (const route of httpRoutes) compiled.push({ route, ...compile(route.path), handler: await loadHandler(route) });
  // as API Gateway: the most specific route wins, so a literal segment beats a parameter
  // (GET /api/groups/invitations before GET /api/groups/{conversationId})
  compiled.sort((a, b) => a.params.length - b.params.length);
  const throttler = new Throttler(options.throttleScale, options.clock);
  // Loaded here, not at the top: the stack reads its environment (LOG_LEVEL...) when first imported.
  const { stackHeaders } = await import('../functions/middleware/http-handler.ts');
  const security = await stackHeaders();

  server.on('request', async (req: IncomingMessage, res: ServerResponse) => {
    try {
      if (options.site?.(req, res, security)) return;
      if (applyCors(req, res, options.corsOrigins ?? [], security)) return;
      const url = new URL(req.url ?? '/', 'http://localhost');
      let match: { c: Compiled; params: Record<string, string> } | undefined;
      for (const c of compiled) {
        if (c.route.method !== req.method) continue;
        const m = c.pattern.exec(url.pathname);
        if (!m) continue;
        const params = clientMap();
        try {
          c.params.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1]!)));
        } catch {
          return send(res, security, 400, 'Bad Request');
        }
        match = { c, params };
        break;
      }
      if (!match) return send(res, security, 404, 'Not Found');
      const { route } = match.c;
      if (!throttler.take('$stage', stageThrottle.rate, stageThrottle.burst) || !throttler.take(route.id, route.throttle.rate, route.throttle.burst)) {
        req.resume();
        return send(res, security, 429, 'Too Many Requests');
      }
      const body = await readBody(req);
      if (body === 'too-large') return send(res, security, 413, 'Request Entity Too Large', { connection: 'close' });
      const event = toEventV2(req, url, route, match.params, body);
      const result = await match.c.handler(event, lambdaContext(route));
      writeResult(res, result);
    } catch {
      if (!res.headersSent) send(res, security, 500, 'Internal Server Error');
      else res.end();
    }
  });
}
