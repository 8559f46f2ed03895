// The shape of one route's contract: what a client sees of it (method and path or route key, who
// may call it, the per-account limit it counts against, and the zod schemas of everything that goes
// in and out). Deployment metadata (grants, throttles, memory, secrets) lives in lib/routes.ts.
import type * as z from 'zod/mini';
import type { $ZodType } from 'zod/v4/core';

export type Schema = $ZodType;

/** public: anyone; user: signed in; moderator: role moderator or admin; admin: role admin. */
export type Access = 'public' | 'user' | 'moderator' | 'admin';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Per-client limits (see functions/core/config.ts for their numbers); named in 429s and RateLimit-Policy. */
export const rateLimitNames = [
  'loginIp',
  'loginAccount',
  'registerIp',
  'otpRequestDestination',
  'otpRequestIp',
  'otpVerifyIp',
  'refreshIp',
  'passwordAccount',
  'reportReporter',
  'searchUser',
  'searchIp',
  'ticketUser',
  'sendUser',
  'conversationUser',
  'keysUser',
  'linkIp',
  'linkClaimIp',
  'inviteUser',
  'uploadUser',
] as const;
export type RateLimitName = (typeof rateLimitNames)[number];

export interface HttpInputs {
  readonly body?: Schema;
  readonly query?: Schema;
  readonly path?: Schema;
}

/** Response body schema per status code; `null` means the status has no body (204). */
export type HttpOutputs = Readonly<Record<number, Schema | null>>;

interface ContractCommon {
  /** Stable id: names the Lambda, its log group and its OpenAPI operation. */
  readonly id: string;
  readonly access: Access;
  readonly summary: string;
  /** A per-user limit the middleware enforces after sign-in. */
  readonly userLimit?: RateLimitName;
}

export interface HttpContract<I extends HttpInputs = HttpInputs, O extends HttpOutputs = HttpOutputs> extends ContractCommon {
  readonly kind: 'http';
  readonly method: HttpMethod;
  /** API Gateway path, parameters in braces: /api/users/{userId}/public-key */
  readonly path: string;
  readonly input: I;
  readonly output: O;
}

export interface WsContract<
  I extends Schema | undefined = Schema | undefined,
  O extends Readonly<Record<string, Schema>> = Readonly<Record<string, Schema>>,
> extends ContractCommon {
  readonly kind: 'ws';
  /** $connect, $disconnect, $default, or the value of a frame's `action` field. */
  readonly routeKey: string;
  /** $connect: the query string; message routes: the JSON frame. */
  readonly input?: I;
  /** Frames the route sends back to the caller, by `type`. */
  readonly output: O;
}

export type Contract = HttpContract | WsContract;

export function httpContract<const C extends Omit<HttpContract, 'kind'>>(c: C): C & { readonly kind: 'http' } {
  return { kind: 'http', ...c };
}

export function wsContract<const C extends Omit<WsContract, 'kind'>>(c: C): C & { readonly kind: 'ws' } {
  return { kind: 'ws', ...c };
}

/** The parsed value of an optional schema (undefined when the route has none). */
export type Parsed<S> = S extends Schema ? z.output<S> : undefined;

/** What a handler may return for one status code: the body is checked against that status's schema. */
type HttpResponseFor<S, Status> = (S extends Schema ? { readonly body: z.input<S> } : { readonly body?: undefined }) &
  (Status extends 200 ? { readonly statusCode?: 200 } : { readonly statusCode: Status }) & {
    readonly headers?: Record<string, string>;
    readonly cookies?: string[];
  };

/** The union of every response the route's contract allows: status code and body go together. */
export type HttpResponse<C extends HttpContract> = {
  [K in keyof C['output'] & number]: HttpResponseFor<C['output'][K], K>;
}[keyof C['output'] & number];

/** The union of frames a WebSocket route may send back, discriminated by `type`. */
export type WsFrame<C extends WsContract> = {
  [K in keyof C['output']]: C['output'][K] extends Schema ? z.input<C['output'][K]> : never;
}[keyof C['output']];
