// Pieces shared by the HTTP and WebSocket middleware stacks: zod validation with field-level
// issues, and the mapping of any thrown value to a status, code and message that leak nothing
// internal. (Outgoing values go through contract/shape.ts.)
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import type { Schema } from '#contract/route.ts';
import { errorBody as errorBodySchema, type ErrorBody } from '#contract/common.ts';
import { DomainError, ValidationFailed, errorBody, type FieldIssue } from '#core/errors.ts';
import { logger } from './logger.ts';

// zod/mini ships no messages by default; English only (the other 60+ locales never enter a bundle).
z.config(en());

export function fieldIssues(prefix: string, error: z.core.$ZodError): FieldIssue[] {
  return error.issues.map((i) => {
    const keys = i.code === 'unrecognized_keys' ? i.keys : [];
    const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
    return {
      path: keys.length ? `${path}${path ? '.' : ''}${keys.join(',')}` : path,
      message: i.message,
      code: i.code,
    };
  });
}

/** Parses `value` with `schema`, throwing ValidationFailed with field-level details. */
export function validate<S extends Schema>(schema: S, value: unknown, prefix: string): z.output<S> {
  const result = z.safeParse(schema, value);
  if (!result.success) throw new ValidationFailed(`Invalid ${prefix || 'input'}`, fieldIssues(prefix, result.error));
  return result.data;
}

/** The error body, through its contract like every response: details of an undeclared shape are dropped, never sent. */
export function outgoingError(code: string, message: string, details?: unknown): ErrorBody {
  const shaped = z.safeParse(errorBodySchema, errorBody(code, message, details));
  return shaped.success ? shaped.data : (errorBody(code, message) as ErrorBody);
}

export interface MappedError {
  status: number;
  code: string;
  message: string;
  details?: unknown;
  headers: Record<string, string>;
}

/** DomainErrors keep their status and message; anything else is logged and becomes a bare 500. */
export function mapError(error: unknown, where: Record<string, unknown>): MappedError {
  if (error instanceof DomainError) {
    if (error.status >= 500) logger.error('request failed', { ...where, code: error.code });
    return { status: error.status, code: error.code, message: error.message, details: error.details, headers: { ...error.headers } };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  logger.error('unhandled error', { ...where, errorName: e.name, errorMessage: e.message, stack: e.stack });
  return { status: 500, code: 'internal', message: 'Internal error', headers: {} };
}

export { shapeOutput } from '#contract/shape.ts';
