// httpHandler(): the Middy stack every HTTP route runs in. It gives a route security headers,
// body parsing (415/413/400), strict zod validation of body, query and path, the access check,
// one JSON error shape, one structured log line per request, and sends every response through its
// contract's schema for that status code (unknown keys stripped), in every environment.
import middy from '@middy/core';
import httpSecurityHeaders from '@middy/http-security-headers';
import * as z from 'zod/mini';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { HttpContract, HttpResponse, Parsed, RateLimitName } from '#contract/route.ts';
import { empty } from '#contract/common.ts';
import { BadRequest, Forbidden, PayloadTooLarge, UnsupportedMediaType } from '#core/errors.ts';
import type { AuthContext } from '#core/authn.ts';
import { config } from '#wiring/platform.ts';
import { mapError, outgoingError, shapeOutput, validate } from './common.ts';
import { edgeCheck } from './edge.ts';
import { logger } from './logger.ts';

export interface HttpRequest<C extends HttpContract> {
  readonly body: Parsed<C['input']['body']>;
  readonly query: Parsed<C['input']['query']>;
  readonly path: Parsed<C['input']['path']>;
  readonly event: APIGatewayProxyEventV2;
  readonly context: Context;
  /**
   * From the gateway's request context, or behind the edge from CloudFront-Viewer-Address on a request
   * that carries the edge's secret (middleware/edge.ts): a client cannot forge it with a header.
   */
  readonly sourceIp: string;
  /** The verified caller on signed-in routes. */
  readonly auth: C['access'] extends 'public' ? undefined : AuthContext;
}

/** What a signed-in route checks before its handler runs (built by functions/wiring/auth.ts). */
export interface HttpGate {
  authenticate(authorization: string | undefined): Promise<AuthContext>;
  limit(name: RateLimitName, key: string): Promise<void>;
}

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;

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

/**
 * The headers the stack puts on every answer, found by running its own header middlewares on an
 * empty response: the local gateway sends them on the answers it makes itself (404, 413, 429...).
 */
export async function stackHeaders(): Promise<Record<string, string>> {
  const response = await middy<Event, Result>()
    .use(securityHeaders())
    .use(apiHeaders)
    .handler(async () => ({ statusCode: 204 }))({} as Event, {} as Context);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers ?? {})) if (value !== undefined) headers[name] = String(value);
  return headers;
}

function errorResponse(request: middy.Request<Event, Result>, contract: HttpContract): Result {
  const mapped = mapError(request.error, { route: contract.id, requestId: request.event.requestContext?.requestId });
  return {
    statusCode: mapped.status,
    headers: { 'Content-Type': JSON_TYPE, ...mapped.headers },
    body: JSON.stringify(outgoingError(mapped.code, mapped.message, mapped.details)),
  };
}

function readBody(event: Event, contract: HttpContract): unknown {
  const raw = event.body ?? '';
  const size = event.isBase64Encoded ? Buffer.from(raw, 'base64').byteLength : Buffer.byteLength(raw);
  const schema = contract.input.body;
  if (size === 0 && (!schema || z.safeParse(schema, undefined).success)) return undefined;
  const { maxBodyBytes } = config().limits;
  if (size > maxBodyBytes) throw new PayloadTooLarge(maxBodyBytes);
  const contentType = event.headers?.['content-type'] ?? '';
  if (!jsonContentType.test(contentType)) throw schema ? new UnsupportedMediaType() : new BadRequest('This route takes no request body', 'unexpected_body');
  // Blank is no body: fine where none is taken, refused where one is required.
  const text = (event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw).trim() || (schema ? '' : '{}');
  if (!text) throw new BadRequest('Request body is empty; a JSON object is required', 'invalid_json');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadRequest('Request body is not valid JSON', 'invalid_json');
  }
  // Many clients send `{}` for "no fields": accepted where no body is taken; any field, or anything but an object, is not.
  return schema ? value : void validate(empty, value, 'body');
}

/** The handler's answer, through the contract: the status must be one the route declares, the body its schema's shape. */
function toResult(contract: HttpContract, result: HttpResponse<HttpContract>): Result {
  const statusCode = result.statusCode ?? 200;
  if (!(statusCode in contract.output)) throw new Error(`${contract.id} answered ${statusCode}, which its contract does not declare`);
  const schema = contract.output[statusCode];
  const out: Result = { statusCode, headers: { ...result.headers } };
  if (schema) {
    out.headers = { 'Content-Type': JSON_TYPE, ...out.headers };
    out.body = JSON.stringify(shapeOutput(schema, result.body, `response ${statusCode} of ${contract.id}`));
  } else if (result.body !== undefined) {
    throw new Error(`${contract.id} answered ${statusCode} with a body its contract does not declare`);
  }
  if (result.cookies?.length) out.cookies = result.cookies;
  return out;
}

/**
 * `httpHandler(contract).handle(impl)`: two steps, so TypeScript fixes the contract first and then
 * checks each return statement of `impl` against the responses that contract declares.
 */
export function httpHandler<const C extends HttpContract>(contract: C, ...gate: C['access'] extends 'public' ? [] : [gate: () => HttpGate]) {
  return { handle: (impl: (req: HttpRequest<C>) => Promise<HttpResponse<C>>) => buildHttpHandler(contract, gate[0], impl) };
}

function buildHttpHandler<C extends HttpContract>(contract: C, gate: (() => HttpGate) | undefined, impl: (req: HttpRequest<C>) => Promise<HttpResponse<C>>) {
  if (contract.access !== 'public' && !gate) throw new Error(`${contract.id} is signed-in but has no gate`);
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
      route: contract.id,
      method: contract.method,
      path: contract.path,
      status: request.response?.statusCode,
      latencyMs: Math.round((performance.now() - started) * 10) / 10,
      requestId: request.event.requestContext?.requestId,
    });

  return middy<Event, Result>()
    .use(requestLog)
    .use(securityHeaders())
    .use(apiHeaders)
    .use({ onError: async (request) => void (request.response = errorResponse(request, contract)) })
    .handler(async (event, context) => {
      const edge = edgeCheck(event.headers, event.requestContext?.http?.sourceIp ?? 'unknown', config().edgeOriginSecret);
      if (!edge.allowed) throw new Forbidden('This API is served through its public domain only', 'edge_only');
      let auth: AuthContext | undefined;
      if (contract.access !== 'public') {
        const g = gate!();
        auth = await g.authenticate(event.headers?.authorization);
        if (contract.access === 'admin' && auth.role !== 'admin') throw new Forbidden('Administrators only', 'admin_only');
        if (contract.access === 'moderator' && auth.role !== 'moderator' && auth.role !== 'admin') throw new Forbidden('Moderators only', 'moderator_only');
        if (contract.userLimit) await g.limit(contract.userLimit, auth.userId);
      }
      const body = readBody(event, contract);
      const req = {
        body: contract.input.body && body !== undefined ? validate(contract.input.body, body, 'body') : undefined,
        query: validate(contract.input.query ?? empty, event.queryStringParameters ?? {}, 'query'),
        path: validate(contract.input.path ?? empty, event.pathParameters ?? {}, 'path'),
        event,
        context,
        sourceIp: edge.clientIp,
        auth,
      } as HttpRequest<C>;
      return toResult(contract, (await impl(req)) as HttpResponse<HttpContract>);
    });
}
