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
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetails | undefined;
  readonly headers: Readonly<Record<string, string>>;

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
  readonly retryAfterSeconds: number;
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
    this.retryAfterSeconds = retry;
  }
}

export class ServiceUnavailable extends DomainError {
  constructor(message = 'Service temporarily unavailable', code = 'unavailable') {
    super(503, code, message);
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return details === undefined ? { error: { code, message } } : { error: { code, message, details } };
}
