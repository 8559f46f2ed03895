// Devices and device linking (docs/devices.md). Every sign-in creates a device holding its session
// (identity.ts startSession); here: listing, renaming and revoking them, and linking a new device
// by a relay the server cannot read: the new device asks (an ephemeral X25519 key), a signed-in
// device approves with a fresh proof and the account's keys boxed to that key, the new device
// claims once with its link secret. Linking touches no public key: partners see no change.
import { createHash, randomBytes } from 'node:crypto';
import type { Device } from '#contract/devices/schemas.ts';
import type { CloseNotice } from '#contract/realtime/close-codes.ts';
import { assertActive, familyAlive, liveSession, type AuthContext } from './authn.ts';
import { Conflict, NotFound } from './errors.ts';
import { reauthenticate, startSession, type IdentityDeps, type Proof, type SignInDeps, type SignInResponse } from './identity.ts';
import { digestsEqual } from './otp.ts';
import type { Clock, ConnectionsPort, DeviceLinksPort, DevicesPort, FamilyRecord, LimitsPort, SessionsPort, UserRecord } from './ports.ts';
import type { Config, DeviceConfig } from './config.ts';
import { enforce } from './rate-limit.ts';

/** Keys rate limits by a digest, so counters never hold an IP in clear. */
const hashed = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 32);
const secretDigest = (secret: string) => createHash('sha256').update(secret).digest('base64url');
const iso = (ms: number) => new Date(ms).toISOString();

// ---- the device list ------------------------------------------------------------------------------

export interface DeviceListDeps {
  clock: Clock;
  devices: Pick<DevicesPort, 'list' | 'families'>;
}

/** The caller's devices whose session is alive, each with its session's family (oldest first). */
async function liveDevices(deps: DeviceListDeps, user: UserRecord) {
  const records = await deps.devices.list(user.userId);
  const families = new Map((await deps.devices.families(records.map((d) => d.familyId))).map((f) => [f.familyId, f]));
  const now = deps.clock.now();
  return records
    .flatMap((d) => {
      const family = families.get(d.familyId);
      return familyAlive(family, user, now) ? [{ device: d, family }] : [];
    })
    .sort((a, b) => a.device.createdAt.localeCompare(b.device.createdAt));
}

function view(d: { deviceId: string; name: string; createdAt: string }, family: FamilyRecord, auth: AuthContext): Device {
  return {
    deviceId: d.deviceId,
    name: d.name,
    createdAt: d.createdAt,
    lastSeenAt: iso(family.lastUsedAt ?? family.createdAt),
    current: family.familyId === auth.sessionId,
  };
}

/**
 * Signed-in devices only: a device whose session ended (logout, logout-all, a password change, reuse
 * detection, a ban) is left out, and its record goes with its family's end (TTL).
 */
export async function listDevices(deps: DeviceListDeps, auth: AuthContext): Promise<Device[]> {
  return (await liveDevices(deps, auth.user)).map(({ device, family }) => view(device, family, auth));
}

export interface DeviceDeps extends DeviceListDeps {
  devices: DevicesPort;
  sessions: Pick<SessionsPort, 'get'>;
}

const noSuchDevice = () => new NotFound('No such device', 'device_not_found');

/** Renames one of the caller's own signed-in devices (another user's id is simply not found). */
export async function renameDevice(deps: DeviceDeps, auth: AuthContext, deviceId: string, name: string): Promise<Device> {
  const device = await deps.devices.get(auth.userId, deviceId);
  const family = device && (await deps.sessions.get(device.familyId));
  if (!device || !familyAlive(family, auth.user, deps.clock.now())) throw noSuchDevice();
  const renamed = await deps.devices.rename(auth.userId, deviceId, name);
  if (!renamed) throw noSuchDevice();
  return view(renamed, family, auth);
}

export interface RevocationDeps extends IdentityDeps {
  devices: Pick<DevicesPort, 'get' | 'delete'>;
  connections: Pick<ConnectionsPort, 'endForUser'>;
}

/** The close a revoked device's sockets are told about (4003, the SDK's DEVICE_REVOKED_CLOSE_CODE). */
export const deviceRevokedNotice: CloseNotice = {
  type: 'error',
  code: 'device_revoked',
  message: 'This device was signed out from another device of the account; sign in or link it again',
  close: { code: 4003, reason: 'device_revoked' },
};

/**
 * Signs one device out, with a fresh proof (reauthenticate: the password, or a `reauth` code). Its
 * family is revoked first (its access and refresh tokens answer 401 from then on: every request reads
 * the family), then its record goes, then its sockets get `device_revoked` and close. Revoking the
 * calling device is allowed: it is a logout.
 */
export async function revokeDevice(deps: RevocationDeps, auth: AuthContext, deviceId: string, proof: Proof, ip: string): Promise<void> {
  await reauthenticate(deps, auth, proof, ip);
  const device = await deps.devices.get(auth.userId, deviceId);
  if (!device) throw noSuchDevice();
  await deps.sessions.revoke(device.familyId, 'device_revoked');
  await deps.devices.delete(auth.userId, deviceId);
  await deps.connections.endForUser(auth.userId, { onlySession: device.familyId, notice: deviceRevokedNotice });
  deps.events.record('device_revoked', { userId: auth.userId, deviceId, byDevice: auth.sessionId === device.familyId ? 'self' : 'other' });
}

// ---- linking --------------------------------------------------------------------------------------

export interface LinkRequestDeps {
  config: Pick<Config, 'rateLimits'>;
  devices: Pick<DeviceConfig, 'linkTtlSeconds'>;
  clock: Clock;
  limits: LimitsPort;
  links: Pick<DeviceLinksPort, 'create'>;
}

export interface LinkRequest {
  linkId: string;
  linkSecret: string;
  expiresIn: number;
}

/**
 * Step 1, signed out: the new device's ephemeral public key and name. The secret goes back once and
 * only its SHA-256 is stored; the link id alone (in the QR code) lets nobody claim.
 */
export async function requestLink(deps: LinkRequestDeps, input: { publicKey: string; deviceName: string }, ip: string): Promise<LinkRequest> {
  await enforce(deps, 'linkIp', hashed(ip));
  const now = deps.clock.now();
  const ttl = deps.devices.linkTtlSeconds;
  const linkId = `dl_${randomBytes(16).toString('hex')}`;
  const linkSecret = randomBytes(32).toString('base64url');
  await deps.links.create({
    linkId,
    secretDigest: secretDigest(linkSecret),
    publicKey: input.publicKey,
    deviceName: input.deviceName,
    createdAt: now,
    linkExpiresAt: now + ttl * 1000,
  });
  return { linkId, linkSecret, expiresIn: ttl };
}

const noSuchLink = () => new NotFound('No such link request, or it expired or was used', 'link_not_found');

export interface LinkView {
  linkId: string;
  publicKey: string;
  deviceName: string;
  approved: boolean;
  expiresAt: string;
  expiresIn: number;
}

/**
 * For the approving device to compare the public key it scanned with the one the server holds. A
 * link approved by another account is not found (its approver's account stays unknown).
 */
export async function viewLink(deps: { clock: Clock; links: Pick<DeviceLinksPort, 'get'> }, auth: AuthContext, linkId: string): Promise<LinkView> {
  const link = await deps.links.get(linkId);
  if (!link || (link.approval && link.approval.userId !== auth.userId)) throw noSuchLink();
  return {
    linkId,
    publicKey: link.publicKey,
    deviceName: link.deviceName,
    approved: link.approval !== undefined,
    expiresAt: iso(link.linkExpiresAt),
    expiresIn: Math.max(0, Math.ceil((link.linkExpiresAt - deps.clock.now()) / 1000)),
  };
}

export interface ApprovalDeps extends IdentityDeps {
  links: Pick<DeviceLinksPort, 'get' | 'approve'>;
  devices: Pick<DevicesPort, 'list' | 'families'>;
  deviceConfig: Pick<DeviceConfig, 'maxPerUser'>;
}

export interface ApprovalInput extends Proof {
  ciphertext: string;
  nonce: string;
  publicKey: string;
}

/**
 * Step 2, signed in, with a fresh proof: stores the box for the new device. Once per link (a second
 * approval, from this account or another, is not found), and not past the device limit.
 */
export async function approveLink(deps: ApprovalDeps, auth: AuthContext, linkId: string, input: ApprovalInput, ip: string): Promise<void> {
  await reauthenticate(deps, auth, input, ip);
  const link = await deps.links.get(linkId);
  if (!link || link.approval) throw noSuchLink();
  const max = deps.deviceConfig.maxPerUser;
  if ((await liveDevices(deps, auth.user)).length >= max) {
    throw deviceLimit(max);
  }
  const approval = { userId: auth.userId, sessionId: auth.sessionId, ciphertext: input.ciphertext, nonce: input.nonce, publicKey: input.publicKey };
  if (!(await deps.links.approve(linkId, { ...approval, approvedAt: deps.clock.now() }))) throw noSuchLink();
  deps.events.record('device_link_approved', { userId: auth.userId, linkId });
}

export interface ClaimDeps extends SignInDeps {
  links: Pick<DeviceLinksPort, 'get' | 'claim'>;
  connections: Pick<ConnectionsPort, 'push'>;
  /** The device limit is checked again at claim: several links approved before any claim each saw room. */
  deviceList: DeviceListDeps['devices'];
  deviceConfig: Pick<DeviceConfig, 'maxPerUser'>;
}

const deviceLimit = (max: number) => new Conflict(`An account may have ${max} signed-in devices: remove one before linking another`, 'device_limit');

export interface ClaimedLink extends SignInResponse {
  ciphertext: string;
  nonce: string;
  publicKey: string;
}

/**
 * Step 3, signed out: the link secret, once. Unknown, unapproved, expired, already claimed and
 * wrong-secret links are one answer (404 link_not_found), after the same reads. The secret is
 * compared in constant time, then the claim is one conditional delete (exactly one of concurrent
 * claims wins); the approving session must still be alive and the account active. Then a new device
 * and session, and a deviceLinked frame to every socket of the account.
 */
export async function claimLink(deps: ClaimDeps, linkId: string, linkSecret: string, ip: string): Promise<ClaimedLink> {
  await enforce(deps, 'linkClaimIp', hashed(ip));
  const digest = secretDigest(linkSecret);
  const link = await deps.links.get(linkId);
  const approval = link?.approval;
  if (!link || !digestsEqual(link.secretDigest, digest) || !approval) throw noSuchLink();
  let user: UserRecord;
  try {
    user = (await liveSession(deps, approval.userId, approval.sessionId)).user;
    assertActive(user, deps.clock.now());
  } catch {
    throw noSuchLink(); // the approving device was signed out, or the account closed, since
  }
  // Approvals each check the limit, but links approved before any is claimed all saw the same room:
  // counted again here, before the link is spent (it stays claimable once a device is removed).
  const max = deps.deviceConfig.maxPerUser;
  if ((await liveDevices({ clock: deps.clock, devices: deps.deviceList }, user)).length >= max) throw deviceLimit(max);
  if (!(await deps.links.claim(linkId, digest))) throw noSuchLink();
  const session = await startSession(deps, user, link.deviceName);
  // Concurrent claims of several approved links all pass the count above: counted again with the new
  // device in, and over the limit its session is ended at once (fail closed: racing claims may all
  // lose, never all win; the new device asks for a new link).
  const live = await liveDevices({ clock: deps.clock, devices: deps.deviceList }, user);
  if (live.length > max) {
    const mine = live.find((d) => d.device.deviceId === session.deviceId);
    if (mine) await deps.sessions.revoke(mine.family.familyId, 'device_limit');
    deps.events.record('device_link_over_limit', { userId: user.userId, linkId });
    throw deviceLimit(max);
  }
  deps.events.record('device_linked', { userId: user.userId, deviceId: session.deviceId, linkId });
  try {
    await deps.connections.push([user.userId], { type: 'deviceLinked', deviceId: session.deviceId, name: link.deviceName, linkedAt: iso(deps.clock.now()) });
  } catch (error) {
    // the link is spent and the session made: the answer must still reach the new device
    deps.events.record('device_linked_push_failed', { userId: user.userId, errorName: (error as Error)?.name });
  }
  return { ...session, ciphertext: approval.ciphertext, nonce: approval.nonce, publicKey: approval.publicKey };
}
