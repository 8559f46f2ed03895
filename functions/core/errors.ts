// Typed domain errors. Core code throws these; one middleware maps them to a status code and the
// stable body { error: { code, message, details? } }. Anything else becomes a generic 500.

export interface FieldIssue {
  readonly path: string;
  readonly message: string;
  readonly code: string;
}

/**
 * What an error may tell the client besides code and message: field issues, or flat facts
 * (`{ retryAfterSeconds }`, `{ until }`). Nothing nested, so no record can ride along by mistake.
 */
export type ErrorDetails = readonly (FieldIssue | Omit<FieldIssue, 'code'>)[] | Readonly<Record<string, string | number | boolean>>;

export class DomainError extends Error {
  // declared, not defined: the constructor sets them, and every bundle is 28 bytes smaller
  declare readonly status: number;
  declare readonly code: string;
  declare readonly details: ErrorDetails | undefined;
  declare readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: string, message: string, details?: ErrorDetails, headers: Record<string, string> = {}) {
    super(message);
    // stable after minification (bundles do not keep class names); the code says which error it is
    this.name = 'DomainError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}

export class BadRequest extends DomainError {
  constructor(message: string, code = 'bad_request', details?: ErrorDetails) {
    super(400, code, message, details);
  }
}

export class ValidationFailed extends DomainError {
  constructor(message: string, issues: readonly FieldIssue[]) {
    super(400, 'validation_failed', message, issues);
  }
}

export class Unauthorized extends DomainError {
  constructor(message = 'Authentication required', code = 'unauthorized') {
    super(401, code, message, undefined, { 'WWW-Authenticate': 'Bearer' });
  }
}

export class Forbidden extends DomainError {
  constructor(message = 'Not allowed', code = 'forbidden') {
    super(403, code, message);
  }
}

export class NotFound extends DomainError {
  constructor(message = 'Not found', code = 'not_found') {
    super(404, code, message);
  }
}

export class Conflict extends DomainError {
  constructor(message: string, code = 'conflict') {
    super(409, code, message);
  }
}

export class PayloadTooLarge extends DomainError {
  constructor(limitBytes: number) {
    super(413, 'payload_too_large', `Request body exceeds ${limitBytes} bytes`, { limitBytes });
  }
}

export class UnsupportedMediaType extends DomainError {
  constructor(message = 'Content-Type must be application/json') {
    super(415, 'unsupported_media_type', message);
  }
}

export class Unprocessable extends DomainError {
  constructor(message: string, code = 'unprocessable', details?: ErrorDetails) {
    super(422, code, message, details);
  }
}

export class RateLimited extends DomainError {
  constructor(what: string, retryAfterSeconds: number, headers: Record<string, string> = {}) {
    const retry = Math.max(1, Math.ceil(retryAfterSeconds));
    super(
      429,
      'rate_limited',
      `Too many requests for ${what}; retry in ${retry} s`,
      { limited: what, retryAfterSeconds: retry },
      {
        ...headers,
        'Retry-After': String(retry),
      },
    );
  }
}

/**
 * Not now, maybe in a moment: a lost race, or a throttled, slow or failing dependency (code
 * `throttled` or `unavailable`, mapped in middleware/common.ts). Every 503 says when to retry:
 * Retry-After, and `retryAfterSeconds` in details (and on a WebSocket error frame).
 */
export class ServiceUnavailable extends DomainError {
  constructor(message = 'Try again shortly', code = 'unavailable') {
    super(503, code, message, { retryAfterSeconds: 1 }, { 'Retry-After': '1' });
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}
