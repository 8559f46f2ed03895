// Pieces shared by the HTTP and WebSocket middleware stacks: zod validation with field-level
// issues, and the mapping of any thrown value to a status, code and message that leak nothing
// internal; a throttled, slow or failing AWS dependency becomes a 503 with Retry-After here, and
// only here. (Outgoing values go through contract/shape.ts.)
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import type { Schema } from '#contract/route.ts';
import { errorBody as errorBodySchema, type ErrorBody } from '#contract/common.ts';
import { DomainError, ServiceUnavailable, ValidationFailed, errorBody, type FieldIssue } from '#core/errors.ts';
import { logger } from './logger.ts';

// zod/mini ships no messages by default; English only (the other 60+ locales never enter a bundle).
z.config(en());

export function fieldIssues(prefix: string, error: z.core.$ZodError): FieldIssue[] {
  // unrecognized keys are named after their object's path: `body.a,b`
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String), i.code === 'unrecognized_keys' ? i.keys.join() : ''].filter(Boolean).join('.'),
    message: i.message,
    code: i.code,
  }));
}

/** Parses `value` with `schema`, throwing ValidationFailed with field-level details. */
export function validate<S extends Schema>(schema: S, value: unknown, prefix: string): z.output<S> {
  const result = z.safeParse(schema, value);
  if (!result.success) throw new ValidationFailed(`Invalid ${prefix || 'input'}`, fieldIssues(prefix, result.error));
  return result.data;
}

const plain = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const flat = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => plain(v)));

/**
 * Error details as the contract allows them (contract/common.ts errorDetails): field issues
 * `{ path, message, code? }` or a flat map of plain values. Anything else (a nested object, a key an
 * issue does not name) is dropped here, at run time, so nothing internal can ride out on an error.
 */
export function shapeDetails(details: unknown): unknown {
  if (Array.isArray(details)) {
    return details.map((i: { path?: unknown; message?: unknown; code?: unknown }) => flat({ path: i?.path, message: i?.message, code: i?.code }));
  }
  return details && typeof details === 'object' ? flat(details) : undefined;
}

/** The error body, through its contract like every response: details of an undeclared shape are dropped, never sent. */
export function outgoingError(code: string, message: string, details?: unknown): ErrorBody {
  const shaped = z.safeParse(errorBodySchema, errorBody(code, message, shapeDetails(details)));
  return shaped.success ? shaped.data : (errorBody(code, message) as ErrorBody);
}

export interface MappedError {
  status: number;
  code: string;
  message: string;
  details?: unknown;
  headers: Record<string, string>;
}

/**
 * Throttling (ProvisionedThroughputExceeded, Throttling, RequestLimitExceeded, also as transaction
 * cancellation reasons) and timeouts (TimeoutError, AbortError, ETIMEDOUT), by name or code.
 */
const busy = /throttl|throughput|requestlimit|timed?out|abort/i;

interface SdkError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  CancellationReasons?: { Code?: string }[];
}

/**
 * DomainErrors keep their status and message. A throttled, slow or failing AWS dependency (after
 * the SDK's own retries; 429 and the names above are `throttled`, other 5xx `unavailable`) is a 503
 * with Retry-After. Anything else is logged and becomes a bare 500.
 */
export function mapError(error: unknown, where: Record<string, unknown>): MappedError {
  const e = error as SdkError | null;
  const status = e?.$metadata?.httpStatusCode as number; // undefined compares false
  const known =
    error instanceof DomainError
      ? error
      : status === 429 || busy.test(`${e?.name}${e?.code}${e?.CancellationReasons?.map((r) => r.Code)}`)
        ? new ServiceUnavailable(undefined, 'throttled')
        : status > 499
          ? new ServiceUnavailable()
          : undefined;
  if (known) {
    if (known.status >= 500) logger.error('request failed', { ...where, code: known.code });
    return { status: known.status, code: known.code, message: known.message, details: known.details, headers: known.headers };
  }
  const x = error instanceof Error ? error : new Error(String(error));
  logger.error('unhandled error', { ...where, errorName: x.name, errorMessage: x.message, stack: x.stack });
  return { status: 500, code: 'internal', message: 'Internal error', headers: {} };
}

export { shapeOutput } from '#contract/shape.ts';
