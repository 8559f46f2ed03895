// Examples for the API documents: one module per area (contract/<area>/examples.ts), typed against
// each route's contract and parsed by tests/examples.test.ts, so they cannot drift from the schemas.
// Only lib/api-docs.ts and tests import them: no Lambda bundle holds an example (the bundle test
// counts an examples module in a bundle as another route's contract).
import type * as z from 'zod/mini';
import type { ErrorBody } from './common.ts';
import type { HttpContract, Schema, WsContract } from './route.ts';

type In<S> = S extends Schema ? z.input<S> : never;
type Out<S> = S extends Schema ? z.output<S> : null;
type InputOf<C extends HttpContract, K extends 'path' | 'query' | 'body'> = C['input'] extends { readonly [P in K]: infer S } ? In<S> : never;

/** An error answer: its status (4xx or 5xx) and the body the error middleware sends. */
export interface ErrorExample {
  readonly status: number;
  readonly summary: string;
  readonly body: ErrorBody;
}

export interface HttpExamples<C extends HttpContract = HttpContract> {
  readonly contract: C;
  /** Path parameters, as the client fills them in. */
  readonly path?: InputOf<C, 'path'>;
  /** Query parameters (strings, as they travel; numbers are coerced). */
  readonly query?: InputOf<C, 'query'>;
  /** Request bodies by name: one per way of calling the route (password or code, direct or group, ...). */
  readonly bodies?: Readonly<Record<string, InputOf<C, 'body'>>>;
  /** One answer per status the contract declares (null: no body), exactly as the server sends it. */
  readonly responses: { readonly [K in keyof C['output'] & number]: Out<C['output'][K]> };
  /** The route's own error answers by name; the ones every route shares are added by `commonErrors`. */
  readonly errors?: Readonly<Record<string, ErrorExample>>;
}

export interface WsExamples<C extends WsContract = WsContract> {
  readonly contract: C;
  /** Frames (or the $connect query) by name. */
  readonly requests?: C['input'] extends Schema ? Readonly<Record<string, In<C['input']>>> : undefined;
  /** One frame per reply type the contract declares, exactly as the server sends it. */
  readonly replies: { readonly [K in keyof C['output']]: Out<C['output'][K]> };
}

export function httpExamples<const C extends HttpContract>(contract: C, examples: Omit<HttpExamples<C>, 'contract'>): HttpExamples<C> {
  return { contract, ...examples };
}

export function wsExamples<const C extends WsContract>(contract: C, examples: Omit<WsExamples<C>, 'contract'>): WsExamples<C> {
  return { contract, ...examples };
}

export const errorExample = (status: number, summary: string, code: string, message: string, details?: ErrorBody['error']['details']): ErrorExample => ({
  status,
  summary,
  body: { error: { code, message, ...(details === undefined ? {} : { details }) } },
});

/** A field-level validation failure, as the middleware reports zod issues. */
export const validationFailed = (where: string, path: string, message: string, code = 'invalid_format'): ErrorExample =>
  errorExample(400, 'Invalid input (field-level details)', 'validation_failed', `Invalid ${where}`, [{ path, message, code }]);

/** The errors every route of an access level can answer, whatever it does. */
export function commonErrors(access: HttpContract['access']): Readonly<Record<string, ErrorExample>> {
  return {
    ...(access === 'public' ? {} : { unauthorized: errorExample(401, 'No, expired or revoked access token', 'unauthorized', 'Authentication required') }),
    ...(access === 'moderator' || access === 'admin'
      ? { forbidden: errorExample(403, `Signed in, but not a${access === 'admin' ? 'n admin' : ' moderator'}`, 'forbidden', 'Not allowed') }
      : {}),
    unavailable: errorExample(503, 'DynamoDB throttled or unavailable; retry after Retry-After', 'throttled', 'Try again shortly', { retryAfterSeconds: 1 }),
  };
}

// The cast of the examples, so that ids agree across routes: Ada talks to Ben, Cleo joins their
// group, Mo moderates.
export const ids = {
  ada: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  ben: '5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9',
  cleo: '9d8c7b6a-5f4e-4d3c-b2a1-0f9e8d7c6b5a',
  mo: 'c0ffee00-1234-4abc-9def-0123456789ab',
  adaLaptop: '7b3e2f10-6c4d-4a8b-9e1f-2a3b4c5d6e7f',
  adaPhone: 'e4d3c2b1-a098-4765-b432-10fedcba9876',
  direct: 'dm_6f1c2e9a4b7d4e0f8a3c5b1d9e7f2a4c',
  group: 'gr_3a9d7c1e5b2f4a6d8c0e1f3a5b7d9c2e',
  message1: '01JDQ8Z6X4V7R2M9K3T5W8Y1BC',
  message2: '01JDQ8ZA2B3C4D5E6F7G8H9J0K',
  message3: '01JDQ8ZF9N8M7K6J5H4G3F2E1D',
  report: 'r_4e8a2c6f0b1d3e5a7c9f2b4d6e8a0c1f',
  audit: '01JDR0B7M2K4P6Q8S0T2V4W6X8',
  link: 'dl_8c2e4a6f0b1d3e5a7c9f2b4d6e8a0c13',
  attachment: 'at_5b1e9d3a7c2f4e6a8d0b1c3e5f7a9b2d',
} as const;

/** Timestamps as the server writes them. */
export const at = (minute: number) => `2026-03-14T09:${String(minute).padStart(2, '0')}:00.000Z`;

/** Deterministic stand-in bytes in standard base64 (ciphertext, keys, nonces are opaque to the server). */
export function b64(bytes: number, seed: number): string {
  let s = '';
  for (let i = 0; i < bytes; i++) s += String.fromCharCode((i * 73 + seed * 151 + 17) & 255);
  return btoa(s);
}

/** A JWT-shaped stand-in (never a real token). */
export const jwt = (typ: 'at+jwt' | 'rt+jwt', sub: string) =>
  [btoa(JSON.stringify({ alg: 'HS256', typ, kid: 'k1' })), btoa(JSON.stringify({ sub, exp: 1773480600 })), b64(32, 9)]
    .map((part) => part.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_'))
    .join('.');
