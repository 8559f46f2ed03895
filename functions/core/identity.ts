// Identity flows: OTP request/verify, registration, login, refresh-token rotation with reuse
// detection, logout, password change, reset and account deletion. Pure domain logic over ports
// (core/ports.ts); the per-request token check lives in authn.ts, the wiring in functions/wiring/.
import { createHash, randomUUID } from 'node:crypto';
import type { OtpAccepted, PublicUser, Tokens } from '#contract/auth/schemas.ts';
import type { CloseNotice } from '#contract/realtime/close-codes.ts';
import { BadRequest, DomainError, Forbidden, Unauthorized, ValidationFailed, RateLimited } from './errors.ts';
import type {
  ChallengeKey,
  ChallengesPort,
  AttachmentsPort,
  ConnectionsPort,
  DevicesPort,
  LimitsPort,
  MetricsPort,
  NotifierPort,
  PublicKeysPort,
  SecurityEventsPort,
  UserRecord,
} from './ports.ts';
import { assertActive, familyAlive, type AuthContext, type AuthDeps } from './authn.ts';
import { codeDigest, destinationKey, digestsEqual, generateCode, type OtpChannel, type OtpPurpose } from './otp.ts';
import { burnPasswordCheck, hashPassword, isCommonPassword, verifyPassword } from './passwords.ts';
import { enforce } from './rate-limit.ts';
import { assertNameAllowed, NO_SUCH_USER, publicUser, updateSelf } from './users.ts';
import { issueAccessToken, issueRefreshToken, tokenDigest, verifyRefreshToken } from './tokens.ts';

export type { AuthContext } from './authn.ts';
export { publicUser } from './users.ts';

export interface IdentityDeps extends AuthDeps {
  challenges: ChallengesPort;
  limits: LimitsPort;
  events: SecurityEventsPort;
}

/** Flows that sign a device in (register, login, a claimed link) record the device. */
export interface SignInDeps extends IdentityDeps {
  devices: Pick<DevicesPort, 'create'>;
}

/** Flows that send a code. */
export interface DeliveryDeps extends IdentityDeps {
  notifier: NotifierPort;
}

/** Login also counts the sign-ins it refuses (LoginFailures). */
export interface LoginDeps extends DeliveryDeps, SignInDeps {
  metrics: MetricsPort;
}

/** Flows that end sessions also close their sockets. */
export interface SocketDeps extends IdentityDeps {
  connections: Pick<ConnectionsPort, 'endForUser'>;
}

export interface Identifier {
  channel: OtpChannel;
  destination: string;
}

/** The account a body names by exactly one of email or phone (the contract checks there is one). */
export function identifierOf(body: { email?: string | undefined; phone?: string | undefined }): Identifier {
  return body.email !== undefined ? { channel: 'email', destination: body.email } : { channel: 'sms', destination: body.phone! };
}

export interface TokenResponse extends Tokens {
  /** Seconds until the refresh token's absolute end, for the cookie's Max-Age. */
  refreshMaxAgeSeconds: number;
}

/** A sign-in's answer and the device it created. */
export interface SignInResponse extends TokenResponse {
  deviceId: string;
}

/** A device nobody named (the client sent no deviceName). */
export const UNNAMED_DEVICE = 'Unnamed device';

const kindOf = (channel: OtpChannel) => (channel === 'email' ? 'email' : 'phone');
/** Keys rate limits by a digest, so counters never hold an address or IP in clear. */
const hashed = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 32);

async function challengeKey(deps: IdentityDeps, purpose: OtpPurpose, id: Identifier): Promise<ChallengeKey> {
  const keys = await deps.signingKeys.current();
  return { purpose, channel: id.channel, destinationKey: destinationKey(keys.current.otpPepper, id.channel, id.destination) };
}

// ---- OTP ------------------------------------------------------------------------------------

export type OtpRequestResult = OtpAccepted;

/**
 * Creates a challenge and queues its code. The code is delivered only where it can be used:
 * `register` only for identifiers without an account, `login` / `password` / `reauth` only for
 * existing ones. Known and unknown identifiers cost the same work on this path (the same reads and
 * writes, one queued message; the worker drops the undeliverable ones) and get the same answer, so
 * neither the answer nor its timing reveals which accounts exist.
 */
export async function requestOtp(deps: DeliveryDeps, purpose: OtpPurpose, id: Identifier, ip: string): Promise<OtpRequestResult> {
  const now = deps.clock.now();
  await enforce(deps, 'otpRequestIp', hashed(ip));
  await enforce(deps, 'otpRequestDestination', hashed(`${id.channel}:${id.destination}`));
  const userId = await deps.users.findIdByIdentifier(kindOf(id.channel), id.destination);
  const user = await deps.users.get(userId ?? NO_SUCH_USER); // read either way: the same reads for unknown identifiers
  // register: only for free identifiers. login, password and reauth: only for accounts without a
  // password (a password account signs in and confirms with its password; a code is a second step,
  // never a substitute). reset: only for accounts with a password (the forgotten-password flow).
  const deliver = purpose === 'register' ? !userId : purpose === 'reset' ? Boolean(user?.passwordHash) : Boolean(user && !user.passwordHash);
  return issueChallenge(deps, purpose, id, deliver, now);
}

/** Stands in for an address that must go nowhere: the same length, nothing real. */
const placeholder = (destination: string) => '#'.repeat(destination.length);

async function issueChallenge(deps: DeliveryDeps, purpose: OtpPurpose, id: Identifier, deliver: boolean, now: number): Promise<OtpRequestResult> {
  const { otp } = deps.config;
  const keys = await deps.signingKeys.current();
  const code = generateCode();
  const expiresAt = now + otp.ttlSeconds * 1000;
  const resendAt = now + otp.resendSeconds * 1000;
  const key = await challengeKey(deps, purpose, id);
  const put = await deps.challenges.put(key, codeDigest(keys.current.otpPepper, purpose, id.channel, id.destination, code), expiresAt, resendAt);
  if (!put.ok) throw new RateLimited('new codes for this destination (wait for the resend delay)', (put.resendAt - now) / 1000);
  // One message either way (the same queue call for known and unknown identifiers); one that must not
  // be delivered carries neither the address nor the code, and the worker drops it without a trace.
  // A failed enqueue must not answer differently from "no account" (enumeration); it is logged
  // (without the code) and the user simply asks again after the resend delay.
  try {
    await deps.notifier.sendOtp(
      deliver
        ? { deliver, channel: id.channel, destination: id.destination, purpose, code, expiresAt }
        : { deliver, channel: id.channel, destination: placeholder(id.destination), purpose, code: '000000', expiresAt },
    );
  } catch (error) {
    deps.events.record('otp_delivery_failed', { channel: id.channel, purpose, errorName: (error as Error)?.name });
  }
  return {
    expiresAt: new Date(expiresAt).toISOString(),
    expiresIn: otp.ttlSeconds,
    resendAfter: new Date(resendAt).toISOString(),
    resendIn: otp.resendSeconds,
  };
}

/**
 * Single use under concurrency: each submission first takes one of the challenge's attempts
 * (conditional update: not used, not expired, attempts left), then the one matching submission
 * that wins the conditional `usedAt` write succeeds. After maxAttempts the right code fails too.
 */
export async function verifyOtp(deps: IdentityDeps, purpose: OtpPurpose, id: Identifier, code: string, ip: string): Promise<void> {
  await enforce(deps, 'otpVerifyIp', hashed(ip));
  const keys = await deps.signingKeys.current();
  const key = await challengeKey(deps, purpose, id);
  const challenge = await deps.challenges.attempt(key, deps.config.otp.maxAttempts);
  const invalid = new Unauthorized('The code is wrong, expired or already used; request a new one', 'invalid_code');
  if (!challenge) throw invalid;
  const expected = codeDigest(keys.current.otpPepper, purpose, id.channel, id.destination, code);
  if (!digestsEqual(challenge.digest, expected)) throw invalid;
  if (!(await deps.challenges.markUsed(key))) throw invalid;
}

// ---- sessions -------------------------------------------------------------------------------

/**
 * A new device and its session (refresh family), written together: the family names the device and
 * the device its family; both end at the family's absolute end (the device record by TTL).
 */
export async function startSession(deps: SignInDeps, user: UserRecord, deviceName = UNNAMED_DEVICE): Promise<SignInResponse> {
  const now = deps.clock.now();
  const keys = await deps.signingKeys.current();
  const familyId = randomUUID();
  const deviceId = randomUUID();
  const expiresAt = Math.floor(now / 1000) + deps.config.tokens.refreshTtlSeconds;
  const refreshToken = await issueRefreshToken(keys, deps.config.tokens, { sub: user.userId, sid: familyId, expiresAt }, now);
  // the epoch of the user record whose credentials this sign-in checked (see authn.ts familyAlive)
  const family = deps.sessions.create({
    familyId,
    userId: user.userId,
    currentDigest: tokenDigest(refreshToken),
    generation: 1,
    createdAt: now,
    epoch: user.sessionEpoch,
    expiresAt,
    deviceId,
  });
  const device = deps.devices.create({ deviceId, userId: user.userId, name: deviceName, createdAt: new Date(now).toISOString(), familyId, expiresAt });
  // both settle before an answer (a failure of either is a 5xx; the client signs in again)
  const [f, d] = await Promise.allSettled([family, device]);
  if (f.status === 'rejected') throw f.reason;
  if (d.status === 'rejected') throw d.reason;
  const access = await issueAccessToken(keys, deps.config.tokens, { sub: user.userId, sid: familyId, role: user.role }, now);
  return {
    user: publicUser(user),
    accessToken: access.token,
    refreshToken,
    expiresIn: access.expiresIn,
    refreshMaxAgeSeconds: Math.max(0, expiresAt - Math.floor(now / 1000)),
    deviceId,
  };
}

// ---- registration and login -------------------------------------------------------------------

export interface RegisterInput {
  identifier: Identifier;
  displayName: string;
  password?: string | undefined;
  code?: string | undefined;
  deviceName?: string | undefined;
}

async function assertPasswordAcceptable(password: string, field = 'password'): Promise<void> {
  if (await isCommonPassword(password)) {
    throw new ValidationFailed('Choose a less common password', [
      { path: `body.${field}`, message: 'This password is among the most common ones', code: 'password_too_common' },
    ]);
  }
}

export async function register(deps: SignInDeps, input: RegisterInput, ip: string): Promise<SignInResponse> {
  const { config: c } = deps;
  const now = deps.clock.now();
  await enforce(deps, 'registerIp', hashed(ip));
  assertNameAllowed(input.displayName, 'user'); // before the code is spent: a new account is never staff
  if (input.password !== undefined) await assertPasswordAcceptable(input.password);
  if (c.otp.requiredFor.register) {
    if (!input.code)
      throw new ValidationFailed('A verification code is required', [
        { path: 'body.code', message: 'Request a code with purpose "register" first', code: 'required' },
      ]);
    await verifyOtp(deps, 'register', input.identifier, input.code, ip);
  }
  const at = new Date(now).toISOString();
  const user: UserRecord = {
    userId: randomUUID(),
    displayName: input.displayName,
    [kindOf(input.identifier.channel)]: input.identifier.destination,
    ...(input.password !== undefined ? { passwordHash: await hashPassword(input.password, c.password) } : {}),
    role: 'user',
    status: 'active',
    tokensValidAfter: 0,
    createdAt: at,
    updatedAt: at,
  };
  await deps.users.create(user);
  deps.events.record('user_registered', { userId: user.userId, channel: input.identifier.channel });
  return startSession(deps, user, input.deviceName);
}

export interface LoginInput {
  identifier: Identifier;
  password?: string | undefined;
  code?: string | undefined;
  deviceName?: string | undefined;
}

export type LoginResult = { kind: 'tokens'; tokens: SignInResponse } | { kind: 'otp_required'; otp: OtpRequestResult & { channel: OtpChannel } };

const invalidCredentials = () => new Unauthorized('Wrong identifier or password', 'invalid_credentials');

/**
 * Password login (two steps when OTP is mandatory at login: credentials, then credentials + code),
 * or passwordless login by a `login` OTP. Unknown accounts cost the same scrypt work and give the
 * same answer as a wrong password. A refusal (401: the password or code did not prove the account;
 * 403: the account may not sign in) counts as a LoginFailure; a throttled (429), malformed (400) or
 * failed (5xx) attempt was never judged and does not.
 */
export async function login(deps: LoginDeps, input: LoginInput, ip: string): Promise<LoginResult> {
  try {
    return await checkLogin(deps, input, ip);
  } catch (error) {
    if (error instanceof DomainError && (error.status === 401 || error.status === 403)) deps.metrics.count('LoginFailures');
    throw error;
  }
}

async function checkLogin(deps: LoginDeps, input: LoginInput, ip: string): Promise<LoginResult> {
  const { config: c } = deps;
  const now = deps.clock.now();
  await enforce(deps, 'loginIp', hashed(ip));
  await enforce(deps, 'loginAccount', hashed(`${input.identifier.channel}:${input.identifier.destination}`));
  const userId = await deps.users.findIdByIdentifier(kindOf(input.identifier.channel), input.identifier.destination);
  const user = await deps.users.get(userId ?? NO_SUCH_USER); // read either way: the same reads for unknown identifiers

  if (input.password !== undefined) {
    const ok = user?.passwordHash ? await verifyPassword(input.password, user.passwordHash) : await burnPasswordCheck(input.password, c.password);
    if (!ok || !user) throw invalidCredentials();
    if (c.otp.requiredFor.login) {
      if (!input.code) {
        const otp = await issueChallenge(deps, 'login', input.identifier, true, now);
        return { kind: 'otp_required', otp: { ...otp, channel: input.identifier.channel } };
      }
      await verifyOtp(deps, 'login', input.identifier, input.code, ip);
    }
  } else {
    if (!input.code) throw new BadRequest('Send a password or a code', 'credentials_required');
    // A code alone never opens a password account: login codes are only sent to passwordless
    // accounts, and in OTP-at-login mode the code goes together with the password. Answered like a
    // wrong code, without touching the challenge (so nobody can burn the owner's second step), after
    // the same calls as a code check (an attempt on a challenge that never exists).
    if (user?.passwordHash) {
      await enforce(deps, 'otpVerifyIp', hashed(ip));
      await deps.challenges.attempt({ purpose: 'login', channel: input.identifier.channel, destinationKey: '-' }, deps.config.otp.maxAttempts);
      throw new Unauthorized('The code is wrong, expired or already used; request a new one', 'invalid_code');
    }
    await verifyOtp(deps, 'login', input.identifier, input.code, ip);
    if (!user) throw invalidCredentials();
  }
  assertActive(user, now);
  return { kind: 'tokens', tokens: await startSession(deps, user, input.deviceName) };
}

// ---- refresh ----------------------------------------------------------------------------------

/**
 * Rotation on every use (RFC 9700): the presented token must be the family's current one. A valid
 * but superseded token means it was copied: the whole family is revoked and the event recorded.
 */
export async function refresh(deps: SocketDeps, refreshToken: string, ip: string): Promise<TokenResponse> {
  const now = deps.clock.now();
  await enforce(deps, 'refreshIp', hashed(ip));
  const keys = await deps.signingKeys.current();
  const claims = await verifyRefreshToken(refreshToken, keys, deps.config.tokens, now);
  const dead = new Unauthorized('Refresh token is invalid, revoked or expired; sign in again', 'invalid_refresh_token');
  const [family, user] = await Promise.all([deps.sessions.get(claims.sid), deps.users.get(claims.sub)]);
  if (!user || !familyAlive(family, user, now)) throw dead;
  assertActive(user, now);
  const next = await issueRefreshToken(keys, deps.config.tokens, { sub: user.userId, sid: family.familyId, expiresAt: family.expiresAt }, now);
  if (!(await deps.sessions.rotate(family.familyId, tokenDigest(refreshToken), tokenDigest(next)))) {
    await deps.sessions.revoke(family.familyId, 'reuse_detected');
    await deps.connections.endForUser(user.userId, {
      onlySession: family.familyId,
      notice: sessionRevoked('This session was revoked: its refresh token was used twice; sign in again'),
    });
    deps.events.record('refresh_token_reuse', { userId: user.userId, familyId: family.familyId, generation: family.generation });
    throw new Unauthorized('This refresh token was already used; every session of this sign-in is revoked', 'refresh_token_reused');
  }
  const access = await issueAccessToken(keys, deps.config.tokens, { sub: user.userId, sid: family.familyId, role: user.role }, now);
  return {
    user: publicUser(user),
    accessToken: access.token,
    refreshToken: next,
    expiresIn: access.expiresIn,
    refreshMaxAgeSeconds: Math.max(0, family.expiresAt - Math.floor(now / 1000)),
  };
}

// ---- signed-in account actions -----------------------------------------------------------------

/*
 * What a socket is told before it is closed (contract/realtime/close-codes.ts; CloseNotice checks the
 * code against the table). Written out here, not looked up, so each bundle carries only its own.
 */
const signedOut: CloseNotice = { type: 'error', code: 'signed_out', message: 'Signed out; sign in again', close: { code: 4001, reason: 'signed_out' } };
const sessionRevoked = (message: string): CloseNotice => ({ type: 'error', code: 'token_revoked', message, close: { code: 4002, reason: 'token_revoked' } });

export async function logout(deps: SocketDeps, auth: AuthContext): Promise<void> {
  await deps.sessions.revoke(auth.sessionId, 'logout');
  await deps.connections.endForUser(auth.userId, { onlySession: auth.sessionId, notice: signedOut });
}

/** A new session epoch: every family begun before it dies at once, the GSI revocation being cleanup. */
const newEpoch = () => randomUUID();

export async function logoutAll(deps: SocketDeps, auth: AuthContext): Promise<void> {
  await deps.users.update(auth.userId, { tokensValidAfter: deps.clock.now(), sessionEpoch: newEpoch(), keptSession: undefined });
  await deps.sessions.revokeAllForUser(auth.userId, 'logout_all');
  await deps.connections.endForUser(auth.userId, { notice: signedOut });
}

export interface ChangePasswordInput {
  currentPassword?: string | undefined;
  newPassword: string;
  code?: string | undefined;
}

/**
 * Accounts with a password prove it; accounts without one prove their email/phone with a
 * `password` OTP. Every other session ends, exactly: the new hash, a new session epoch and the
 * caller's session as the one kept are one write, so a sign-in that read the old password dies
 * whenever its family is written; the calling session stays signed in.
 */
export async function changePassword(deps: SocketDeps, auth: AuthContext, input: ChangePasswordInput, ip: string): Promise<PublicUser> {
  await enforce(deps, 'passwordAccount', auth.userId);
  const user = auth.user;
  if (user.passwordHash) {
    if (input.currentPassword === undefined || !(await verifyPassword(input.currentPassword, user.passwordHash))) {
      throw new Forbidden('The current password is wrong', 'invalid_current_password');
    }
  } else {
    const id = accountIdentifier(user);
    if (!input.code)
      throw new ValidationFailed('A verification code is required', [
        { path: 'body.code', message: 'Request a code with purpose "password" first', code: 'required' },
      ]);
    await verifyOtp(deps, 'password', id, input.code, ip);
  }
  await assertPasswordAcceptable(input.newPassword, 'newPassword');
  const updated = await deps.users.update(user.userId, {
    passwordHash: await hashPassword(input.newPassword, deps.config.password),
    sessionEpoch: newEpoch(),
    keptSession: auth.sessionId,
  });
  await deps.sessions.revokeAllForUser(user.userId, 'password_changed', auth.sessionId);
  await deps.connections.endForUser(user.userId, {
    exceptSession: auth.sessionId,
    notice: sessionRevoked('The password was changed; sign in again'),
  });
  deps.events.record('password_changed', { userId: user.userId });
  return publicUser(updated);
}

export interface ResetPasswordInput {
  identifier: Identifier;
  code: string;
  newPassword: string;
}

/**
 * Forgotten password: a `reset` code proves the email or phone; the new password replaces the old
 * and every session of the account ends (tokens and sockets). Unknown accounts fail like a wrong code.
 */
export async function resetPassword(deps: SocketDeps, input: ResetPasswordInput, ip: string): Promise<void> {
  const now = deps.clock.now();
  await enforce(deps, 'passwordAccount', hashed(`${input.identifier.channel}:${input.identifier.destination}`));
  await assertPasswordAcceptable(input.newPassword, 'newPassword');
  await verifyOtp(deps, 'reset', input.identifier, input.code, ip);
  const userId = await deps.users.findIdByIdentifier(kindOf(input.identifier.channel), input.identifier.destination);
  const user = userId ? await deps.users.get(userId) : undefined;
  if (!user?.passwordHash) throw new Unauthorized('The code is wrong, expired or already used; request a new one', 'invalid_code');
  await deps.users.update(user.userId, {
    passwordHash: await hashPassword(input.newPassword, deps.config.password),
    tokensValidAfter: now,
    sessionEpoch: newEpoch(),
    keptSession: undefined,
  });
  await deps.sessions.revokeAllForUser(user.userId, 'password_reset');
  await deps.connections.endForUser(user.userId, { notice: sessionRevoked('The password was reset; sign in again') });
  deps.events.record('password_reset', { userId: user.userId });
}

export function accountIdentifier(user: UserRecord): Identifier {
  return user.email ? { channel: 'email', destination: user.email } : { channel: 'sms', destination: user.phone! };
}

// ---- a fresh proof for sensitive actions ------------------------------------------------------------

export interface Proof {
  password?: string | undefined;
  code?: string | undefined;
}

/**
 * The signed-in caller proves again that they hold the account, for actions a stolen access token
 * must not be enough for: the password of a password account, or a `reauth` code (delivered to
 * passwordless accounts only) for one without. Counted like a login attempt, per address and per
 * account (loginIp, loginAccount), so a token cannot guess the password faster than login allows.
 */
export async function reauthenticate(deps: IdentityDeps, auth: AuthContext, proof: Proof, ip: string): Promise<void> {
  const hash = auth.user.passwordHash;
  if (proof.password === undefined && proof.code === undefined) {
    throw new ValidationFailed('Confirm this with a fresh proof', [
      hash
        ? { path: 'body.password', message: 'Send the account password', code: 'required' }
        : { path: 'body.code', message: 'Request a code with purpose "reauth" first', code: 'required' },
    ]);
  }
  const id = accountIdentifier(auth.user);
  await enforce(deps, 'loginIp', hashed(ip));
  await enforce(deps, 'loginAccount', hashed(`${id.channel}:${id.destination}`));
  if (hash) {
    if (proof.password === undefined) throw new BadRequest('This account has a password: confirm with it, not a code', 'password_required');
    if (!(await verifyPassword(proof.password, hash))) throw new Forbidden('The password is wrong', 'invalid_password');
  } else {
    if (proof.code === undefined) throw new BadRequest('This account has no password: confirm with a "reauth" code', 'code_required');
    await verifyOtp(deps, 'reauth', id, proof.code, ip);
  }
}

/**
 * The caller's profile (users.ts updateSelf). Turning discovery on lets anyone who knows the email
 * or phone find the account, so it takes a fresh proof; a proof sent along is always checked.
 */
export async function updateProfile(
  deps: IdentityDeps,
  auth: AuthContext,
  changes: { displayName?: string | undefined; discoverable?: boolean | undefined } & Proof,
  ip: string,
): Promise<PublicUser> {
  if (changes.displayName !== undefined) assertNameAllowed(changes.displayName, auth.role); // before a code is spent
  const turningOn = changes.discoverable === true && auth.user.discoverable !== true;
  if (turningOn || changes.password !== undefined || changes.code !== undefined) await reauthenticate(deps, auth, changes, ip);
  return updateSelf(deps, auth, changes);
}

/** Account deletion also removes the user's public keys and device records. */
export interface DeletionDeps extends SocketDeps {
  publicKeys: Pick<PublicKeysPort, 'deleteAll'>;
  devices: Pick<DevicesPort, 'deleteAll'>;
  attachments: Pick<AttachmentsPort, 'requestPurge'>;
}

/**
 * Deletion takes a fresh proof (reauthenticate). Then tokens die first (valid-after + families),
 * then sockets, keys, devices, profile and claims.
 */
export async function deleteAccount(deps: DeletionDeps, auth: AuthContext, proof: Proof, ip: string): Promise<void> {
  await reauthenticate(deps, auth, proof, ip);
  // one name for the revocation, the sockets' close (4005) and the event; DeleteMe is at its size limit
  const { userId } = auth;
  const reason = 'account_deleted';
  await deps.users.update(userId, { tokensValidAfter: deps.clock.now() + 1 });
  await deps.sessions.revokeAllForUser(userId, reason);
  await deps.connections.endForUser(userId, { notice: { type: 'error', code: reason, message: 'This account was deleted', close: { code: 4005, reason } } });
  await deps.publicKeys.deleteAll(userId);
  await deps.devices.deleteAll(userId);
  // the sweeper deletes the account's attachment blobs and records; downloads stop at once (their owner is gone)
  await deps.attachments.requestPurge(userId);
  await deps.users.delete(auth.user);
  deps.events.record(reason, { userId });
}
