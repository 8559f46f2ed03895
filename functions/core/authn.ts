// The per-request token check shared by every signed-in route, kept apart from the identity flows
// so routes that only authenticate do not bundle password hashing or OTP code.
import type { Role } from '#contract/common.ts';
import type { Config } from './config.ts';
import { DomainError, Forbidden, Unauthorized } from './errors.ts';
import type { Clock, FamilyRecord, SessionsPort, SigningKeysPort, UserRecord, UsersPort } from './ports.ts';
import { verifyAccessToken } from './tokens.ts';

export interface AuthDeps {
  config: Config;
  clock: Clock;
  signingKeys: SigningKeysPort;
  users: UsersPort;
  sessions: SessionsPort;
}

export interface AuthContext {
  userId: string;
  sessionId: string;
  role: Role;
  user: UserRecord;
}

/** Banned and suspended accounts cannot sign in or use tokens; the message says until when. */
export function assertActive(user: UserRecord, now: number): void {
  if (user.status === 'banned') throw new Forbidden('This account is banned', 'account_banned');
  if (user.status === 'suspended' && (user.suspendedUntil === undefined || user.suspendedUntil > now)) {
    const until = user.suspendedUntil ? new Date(user.suspendedUntil).toISOString() : undefined;
    throw new DomainError(403, 'account_suspended', `This account is suspended until ${until ?? 'further notice'}`, until ? { until } : undefined);
  }
}

/**
 * A session family still counts for its user: not revoked, not past its end, not older than
 * tokens-valid-after (bans, deletion), and begun in the user's current session epoch or kept by the
 * password change that started it (the caller's). The epoch is exact where the GSI revocation is
 * only cleanup: a sign-in that read the user before a password change or logout-all carries the old
 * epoch, however late (and in whichever millisecond) its family is written.
 */
export function familyAlive(family: FamilyRecord | undefined, user: UserRecord, now: number): family is FamilyRecord {
  return (
    family?.userId === user.userId &&
    family.revokedAt === undefined &&
    family.createdAt >= user.tokensValidAfter &&
    family.expiresAt * 1000 > now &&
    (family.epoch === user.sessionEpoch || family.familyId === user.keptSession)
  );
}

// ---- the per-request check ---------------------------------------------------------------------

/**
 * Verifies an access token and that it is still alive: user exists and is active, the token is not
 * older than the user's tokens-valid-after, and its session family is not revoked.
 */
export async function authenticate(deps: AuthDeps, authorization: string | undefined): Promise<AuthContext> {
  const match = /^Bearer ([A-Za-z0-9_.-]+)$/i.exec(authorization?.trim() ?? '');
  if (!match) throw new Unauthorized('Send an access token as "Authorization: Bearer <token>"', 'missing_token');
  const keys = await deps.signingKeys.current();
  const claims = await verifyAccessToken(match[1]!, keys, deps.config.tokens, deps.clock.now());
  return liveSession(deps, claims.sub, claims.sid, claims.iat);
}

/**
 * The session (refresh family) behind a token or a WebSocket connection is still alive: the user
 * exists and is active, the token is not older than tokens-valid-after, and the family is alive
 * (familyAlive).
 */
export async function liveSession(
  deps: Pick<AuthDeps, 'users' | 'sessions' | 'clock'>,
  userId: string,
  sessionId: string,
  issuedAtSeconds?: number,
): Promise<AuthContext> {
  const [user, family] = await Promise.all([deps.users.get(userId), deps.sessions.get(sessionId)]);
  return checkLiveSession(user, family, deps.clock.now(), issuedAtSeconds);
}

/** liveSession's verdict over records read already (a send reads them in its own first round). */
export function checkLiveSession(user: UserRecord | undefined, family: FamilyRecord | undefined, now: number, issuedAtSeconds?: number): AuthContext {
  const revoked = new Unauthorized('This session has ended; refresh or sign in again', 'token_revoked');
  if (!user) throw revoked;
  if (issuedAtSeconds !== undefined && issuedAtSeconds * 1000 < Math.floor(user.tokensValidAfter / 1000) * 1000) throw revoked;
  if (!familyAlive(family, user, now)) throw revoked;
  assertActive(user, now);
  return { userId: user.userId, sessionId: family.familyId, role: user.role, user };
}
