// The errors the SDK throws. ApiError is the server's answer (`{ error: { code, message, details? } }`);
// the others are the SDK's own findings about what it received.

import { API_ERROR_CODES, type ServerErrorCode } from './error-codes.ts';

export { API_ERROR_CODES, type ServerErrorCode };

/** Codes the SDK itself gives an ApiError (no server sends them). */
export const SDK_ERROR_CODES = [
  /** A response that is not the JSON the API sends (a gateway's HTML error page, a proxy, a truncated body). */
  'http_error',
  /** The request did not reach the server, or its answer did not arrive (NetworkError). */
  'network_error',
  /** No answer within the call's timeout (TimeoutError). */
  'timeout',
  /** The refresh failed: sign in again (SessionExpired). */
  'session_expired',
  /** The socket closed before a send's ack. */
  'socket_closed',
  /** No ack within the send's timeout. */
  'ack_timeout',
  /** The object storage refused a presigned upload or download (details.storageCode). */
  'upload_refused',
  'download_refused',
  /** Device linking: the relayed box does not open, or holds keys that are not the account's published ones. */
  'link_box_invalid',
  'link_keys_mismatch',
  /** A send with keys that are not the caller's published ones. */
  'key_not_published',
  /** The access token names no user. */
  'token_unreadable',
] as const;
export type SdkErrorCode = (typeof SDK_ERROR_CODES)[number];

/** Every code an ApiError may carry: the server's (generated from functions/) and the SDK's own. */
export type ApiErrorCode = ServerErrorCode | SdkErrorCode;

/** The server said no (status ≥ 400 and `{ error: { code, message, details? } }`), or the SDK's equivalent (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly details: unknown;
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, code: ApiErrorCode, message: string, details?: unknown, retryAfterSeconds?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The session is over (refresh failed, or the refresh token was refused): sign in again. */
export class SessionExpired extends ApiError {
  constructor(cause: ApiError) {
    super(401, 'session_expired', `Signed out: ${cause.message}`, { cause: cause.code }, undefined, { cause });
    this.name = 'SessionExpired';
  }
}

/** 429: a per-client or gateway limit; `retryAfterSeconds` (from Retry-After, else the body, else 1) says when to try again. */
export class RateLimited extends ApiError {
  declare readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number, details?: unknown) {
    super(429, 'rate_limited', message, details, retryAfterSeconds);
    this.name = 'RateLimited';
  }
}

/** The server could not be reached (DNS, refused connection, offline, CORS refusal, a reset): nothing is known about the call. */
export class NetworkError extends ApiError {
  constructor(message: string, cause?: unknown) {
    super(0, 'network_error', message, undefined, undefined, { cause });
    this.name = 'NetworkError';
  }
}

/** No answer within `timeoutMs`: the call was aborted. A send may still have happened (sends are idempotent by clientMessageId). */
export class TimeoutError extends ApiError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number, what = 'The request') {
    super(0, 'timeout', `${what} got no answer within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A downloaded blob that is not the one the message described: its digest differs, secretbox refuses
 * it (wrong key or nonce, altered bytes), or its size is not the size announced. Never show its bytes.
 */
export class AttachmentTampered extends Error {
  readonly reason: 'digest' | 'decrypt' | 'size';
  constructor(reason: 'digest' | 'decrypt' | 'size') {
    super(
      reason === 'digest'
        ? 'The attachment’s SHA-256 digest is not the one in the message'
        : reason === 'decrypt'
          ? 'The attachment does not open with the key in the message'
          : 'The attachment’s size is not the one in the message',
    );
    this.name = 'AttachmentTampered';
    this.reason = reason;
  }
}

/** The directory served a key its identity key did not sign: never wrap for it. */
export class KeyInvalid extends Error {
  constructor(userId: string) {
    super(`The published key of ${userId} is not signed by its identity key`);
    this.name = 'KeyInvalid';
  }
}

/** The server's key for this link differs from the one scanned: do not approve (a swapped QR code or a lying server). */
export class LinkMismatch extends Error {
  constructor() {
    super('The link request does not carry the public key that was scanned');
    this.name = 'LinkMismatch';
  }
}
