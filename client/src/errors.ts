// The errors the SDK throws. ApiError is the server's answer (`{ error: { code, message, details? } }`);
// the others are the SDK's own findings about what it received.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, code: string, message: string, details?: unknown, retryAfterSeconds?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The session is over (refresh failed): sign in again. */
export class SessionExpired extends ApiError {
  constructor(cause: ApiError) {
    super(401, 'session_expired', `Signed out: ${cause.message}`, { cause: cause.code });
    this.name = 'SessionExpired';
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
