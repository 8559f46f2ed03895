// httpHandler(): the Middy stack every HTTP route runs in. It gives a route security headers,
// body parsing (415/413/400), strict zod validation of body, query and path, the access check,
// one JSON error shape, and one structured log line per request.
import middy from '@middy/core';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { z } from 'zod';
import { config } from '#core/config.ts';
import { BadRequest, Forbidden, PayloadTooLarge, UnsupportedMediaType, errorBody } from '#core/errors.ts';
import { authenticate, type AuthContext } from '#core/authn.ts';
import { authDeps } from '#adapters/identity.ts';
import { counters } from '#adapters/ephemeral.ts';
import { enforce } from '#core/rate-limit.ts';
import type { HttpRoute } from '#lib/routes.ts';
import { mapError, validate } from './common.ts';
import { logger } from './logger.ts';

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface HttpRequest<R extends HttpRoute> {
  readonly body: Out<NonNullable<R['input']['body']>>;
  readonly query: Out<NonNullable<R['input']['query']>>;
  readonly path: Out<NonNullable<R['input']['path']>>;
  readonly event: APIGatewayProxyEventV2;
  readonly context: Context;
  /** From the gateway's request context: a client cannot forge it with a header. */
  readonly sourceIp: string;
  /** The verified caller on `user` and `admin` routes. */
  readonly auth: R['access'] extends 'public' ? undefined : AuthContext;
}

export interface HttpResult {
  readonly statusCode?: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly cookies?: string[];
}

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;

const emptyObject = z.strictObject({});
const JSON_TYPE = 'application/json; charset=utf-8';
const jsonContentType = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Helmet-grade headers; HSTS is one year with subdomains, and the API-only extras suit JSON. */
export const securityHeaders = () =>
  httpSecurityHeaders({
    strictTransportSecurity: { maxAge: 365 * 24 * 60 * 60, includeSubDomains: true, preload: true },
  });

const apiHeaders: middy.MiddlewareObj<Event, Result> = {
  after: async (request) => addApiHeaders(request.response),
  onError: async (request) => addApiHeaders(request.response),
};

function addApiHeaders(response: Result | null | undefined): void {
  if (!response) return;
  response.headers = {
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    'X-Frame-Options': 'DENY',
    ...response.headers,
  };
}

function errorResponse(request: middy.Request<Event, Result>, route: HttpRoute): Result {
  const mapped = mapError(request.error, { route: route.id, requestId: request.event.requestContext?.requestId });
  return {
    statusCode: mapped.status,
    headers: { 'Content-Type': JSON_TYPE, ...mapped.headers },
    body: JSON.stringify(errorBody(mapped.code, mapped.message, mapped.details)),
  };
}

function readBody(event: Event, route: HttpRoute): unknown {
  const raw = event.body ?? '';
  const size = event.isBase64Encoded ? Buffer.from(raw, 'base64').byteLength : Buffer.byteLength(raw);
  if (!route.input.body) {
    if (size > 0) throw new BadRequest('This route takes no request body', 'unexpected_body');
    return undefined;
  }
  if (size === 0 && route.input.body.safeParse(undefined).success) return undefined;
  if (size > config.limits.maxBodyBytes) throw new PayloadTooLarge(config.limits.maxBodyBytes);
  const contentType = event.headers?.['content-type'] ?? '';
  if (!jsonContentType.test(contentType)) throw new UnsupportedMediaType();
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (text.trim() === '') throw new BadRequest('Request body is empty; a JSON object is required', 'invalid_json');
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest('Request body is not valid JSON', 'invalid_json');
  }
}

function toResult(result: HttpResult): Result {
  const statusCode = result.statusCode ?? 200;
  const out: Result = { statusCode, headers: { ...result.headers } };
  if (result.body !== undefined && statusCode !== 204) {
    out.headers = { 'Content-Type': JSON_TYPE, ...out.headers };
    out.body = JSON.stringify(result.body);
  }
  if (result.cookies?.length) out.cookies = result.cookies;
  return out;
}

/** In local runs (laptop, tests) every response is checked against the manifest's output schema. */
function assertOutput(route: HttpRoute, response: Result): void {
  const schema = route.output[response.statusCode ?? 200];
  if (!schema || response.body === undefined) return;
  const parsed = schema.safeParse(JSON.parse(response.body));
  if (!parsed.success) throw new Error(`response of ${route.id} (${response.statusCode}) does not match its manifest schema`);
}

export function httpHandler<R extends HttpRoute>(route: R, impl: (req: HttpRequest<R>) => Promise<HttpResult>) {
  let started = 0;
  const requestLog: middy.MiddlewareObj<Event, Result> = {
    before: async () => {
      started = performance.now();
    },
    after: async (request) => logRequest(request),
    onError: async (request) => logRequest(request),
  };
  const logRequest = (request: middy.Request<Event, Result>) =>
    logger.info('request', {
      route: route.id,
      method: route.method,
      path: route.path,
      status: request.response?.statusCode,
      latencyMs: Math.round((performance.now() - started) * 10) / 10,
      requestId: request.event.requestContext?.requestId,
    });

  return middy<Event, Result>()
    .use(requestLog)
    .use(securityHeaders())
    .use(apiHeaders)
    .use({ onError: async (request) => void (request.response = errorResponse(request, route)) })
    .handler(async (event, context) => {
      let auth: AuthContext | undefined;
      if (route.access !== 'public') {
        auth = await authenticate(authDeps, event.headers?.authorization);
        if (route.access === 'admin' && auth.role !== 'admin') throw new Forbidden('Administrators only', 'admin_only');
        if (route.access === 'moderator' && auth.role !== 'moderator' && auth.role !== 'admin') throw new Forbidden('Moderators only', 'moderator_only');
        if (route.userLimit) await enforce(counters, config.rateLimits, route.userLimit, auth.userId, Date.now());
      }
      const body = readBody(event, route);
      const req = {
        body: route.input.body && body !== undefined ? validate(route.input.body, body, 'body') : undefined,
        query: validate(route.input.query ?? emptyObject, event.queryStringParameters ?? {}, 'query'),
        path: validate(route.input.path ?? emptyObject, event.pathParameters ?? {}, 'path'),
        event,
        context,
        sourceIp: event.requestContext?.http?.sourceIp ?? 'unknown',
        auth,
      } as HttpRequest<R>;
      const response = toResult(await impl(req));
      if (config.local) assertOutput(route, response);
      return response;
    });
}
