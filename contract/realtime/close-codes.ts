// Why a socket ended: one application close code (4000-4999) per reason, and whether reconnecting can
// help. The server tells a socket with an `error` frame whose `code` is the reason and whose `close`
// names the code, then deletes the connection (API Gateway's @connections DELETE takes no close code;
// the local gateway closes with the frame's). A refused upgrade has no socket to close: its HTTP
// status (`upgradeStatus`) is the signal, and the SDK reports it with the same code. docs/realtime.md.

export interface CloseCode {
  /** The WebSocket close code. */
  readonly code: number;
  /** True when reconnecting (with a fresh ticket, after backoff) can help; false: stop retrying. */
  readonly retry: boolean;
  /** At $connect: the HTTP status the upgrade is refused with, when the reason can arise there. */
  readonly upgradeStatus?: number;
}

/**
 * Keyed by reason, which is also the error frame's `code` and the close frame's reason (an error code
 * the server already uses). HTTP routes that close sockets do not import this table (some are at
 * their size limit): they write their notice literally, typed by CloseNotice (a wrong number does not
 * compile). Only the WebSocket bundles hold it, for their session check (closeFor).
 */
export const closeCodes = {
  /** This session signed out (logout), or the account signed out everywhere (logout-all). */
  signed_out: { code: 4001, retry: false },
  /** The session ended elsewhere: a password change or reset, a reused refresh token, or a frame found it revoked. */
  token_revoked: { code: 4002, retry: false },
  /** This device was signed out from another device of the account (the SDK's DEVICE_REVOKED_CLOSE_CODE). */
  device_revoked: { code: 4003, retry: false },
  /** A moderator suspended the account; details.until says until when, if known. */
  account_suspended: { code: 4004, retry: false },
  /** The account was deleted. */
  account_deleted: { code: 4005, retry: false },
  /** A moderator banned the account. */
  account_banned: { code: 4006, retry: false },
  /** The connection has no session (its record is gone): reconnect with a fresh ticket. */
  not_signed_in: { code: 4007, retry: true },
  /** Too many connects (the gateway's throttle): reconnect after backoff. */
  throttled: { code: 4008, retry: true, upgradeStatus: 429 },
  /** The ticket is unknown, used, expired, or its session has ended: get a new ticket (its 401 means sign in). */
  ticket_invalid: { code: 4010, retry: true, upgradeStatus: 401 },
  /** The server could not take the connection (5xx): reconnect after backoff. */
  unavailable: { code: 4011, retry: true, upgradeStatus: 503 },
} as const satisfies Record<string, CloseCode>;

export type CloseReason = keyof typeof closeCodes;

/** What an error frame says about the close that follows it. */
export interface CloseInfo<R extends CloseReason = CloseReason> {
  readonly code: (typeof closeCodes)[R]['code'];
  readonly reason: R;
}

/** The error frame sent to a socket just before the server ends it: code, reason and close agree. */
export type CloseNotice = {
  [R in CloseReason]: { type: 'error'; code: R; message: string; details?: Record<string, string>; close: CloseInfo<R> };
}[CloseReason];

/** The close a reason calls for (the WebSocket bundles' session check; the table is small). */
export function closeFor(reason: string): CloseInfo | undefined {
  if (!Object.hasOwn(closeCodes, reason)) return undefined;
  return { code: (closeCodes as Record<string, CloseCode>)[reason]!.code, reason } as CloseInfo;
}
