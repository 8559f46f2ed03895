// In-memory fakes of every port in functions/core/ports.ts, for unit tests of the core use cases
// (tests/unit/). Each mirrors the contract its real adapter implements (functions/adapters/): the
// same conditional writes, single use, attempt counting, expiry checked against the clock, and
// records handed out as copies, so a use case cannot pass here and fail against DynamoDB.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { monotonicFactory } from 'ulid';
import type { Role } from '#contract/common.ts';
import type { GroupEvent } from '#contract/conversations/schemas.ts';
import type { GroupRole } from '#contract/groups/schemas.ts';
import { pushFrames } from '#contract/realtime/frames.ts';
import { shapeOutput } from '#contract/shape.ts';
import type { ReportStatus } from '#contract/moderation/schemas.ts';
import { auditHash, GENESIS } from '#core/audit-chain.ts';
import type { AuthContext, AuthDeps } from '#core/authn.ts';
import { loadConfig, type Config } from '#core/config.ts';
import type { ConversationDeps, ConversationReadDeps, OpeningDeps, SendDeps } from '#core/conversations.ts';
import { BadRequest, Conflict, DomainError, NotFound } from '#core/errors.ts';
import type { DeletionDeps, DeliveryDeps, LoginDeps, SignInDeps, SocketDeps } from '#core/identity.ts';
import type { ApprovalDeps, ClaimDeps, DeviceDeps, LinkRequestDeps, RevocationDeps } from '#core/devices.ts';
import type { BlockingDeps, ModerationDeps, ReportingDeps, SanctionDeps } from '#core/moderation.ts';
import type { GroupSendDeps } from '#core/group-send.ts';
import type { GroupSignalDeps } from '#core/group-signals.ts';
import type { GroupChangeDeps, GroupInviteDeps, GroupReadDeps, GroupViewDeps } from '#core/groups.ts';
import { messageRecord, nextSyncCursor, parseSyncCursor, SYNC_CURSOR_MAX_RECENT, SYNC_SETTLE_SECONDS } from '#core/message-rules.ts';
import { hashPassword } from '#core/passwords.ts';
import type {
  AuditChainPort,
  AuditEntry,
  AuditHead,
  BlocksPort,
  BusinessMetric,
  ChallengeKey,
  ChallengeRecord,
  ChallengesPort,
  Clock,
  ConnectionRow,
  ConnectionsPort,
  ConversationsPort,
  DeviceLinkRecord,
  DeviceLinksPort,
  DeviceRecord,
  DevicesPort,
  FamilyRecord,
  GroupInvitationRecord,
  GroupMemberRecord,
  GroupMeta,
  GroupReportsPort,
  GroupSendPort,
  GroupSendRequest,
  GroupSignalsPort,
  GroupsPort,
  HealthPort,
  KeyRecord,
  LimitsPort,
  MemberView,
  MessageRecord,
  MetricsPort,
  ModerationPort,
  NotifierPort,
  OfflineNotice,
  OtpMessage,
  Page,
  PresenceQueuePort,
  PublicKeysPort,
  ReportRecord,
  RosterVersion,
  SecurityEventsPort,
  SendRequest,
  SessionsPort,
  SigningKeysPort,
  StoredSend,
  TicketsPort,
  UserChanges,
  UserRecord,
  UsersPort,
  SendContextPort,
  SocketSet,
  SocketSetsPort,
} from '#core/ports.ts';
import { LIMIT_SUBWINDOWS } from '#core/ports.ts';
import type { PublishDeps } from '#core/public-keys.ts';
import type { AuthorizerDeps, DepartureDeps, OfflineWorkerDeps, PresenceDeps } from '#core/realtime.ts';
import { deriveKeys, type AuthKeys } from '#core/signing-keys.ts';
import { issueAccessToken } from '#core/tokens.ts';

const copy = <T>(value: T): T => structuredClone(value);
const iso = (ms: number) => new Date(ms).toISOString();

/** Opaque page cursors that, like the real ones, are only valid for the partition they came from. */
function encodeCursor(owner: string, after: string): string {
  return Buffer.from(JSON.stringify({ owner, after })).toString('base64url');
}
function decodeCursor(cursor: string | undefined, owner: string): string | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { owner?: unknown; after?: unknown };
    if (parsed.owner === owner && typeof parsed.after === 'string') return parsed.after;
  } catch {
    // answered below, like any other foreign cursor
  }
  throw new BadRequest('Invalid cursor', 'invalid_cursor');
}

/**
 * One page of `sorted` (already in page order) after the cursor. `limit` counts evaluated items
 * before `keep` filters them, as a DynamoDB Query's Limit does before its FilterExpression.
 */
function page<T>(
  sorted: T[],
  keyOf: (t: T) => string,
  owner: string,
  limit: number,
  cursor: string | undefined,
  keep: (t: T) => boolean = () => true,
): Page<T> {
  const after = decodeCursor(cursor, owner);
  const start = after === undefined ? 0 : sorted.findIndex((t) => keyOf(t) === after) + 1;
  const evaluated = sorted.slice(start, start + limit);
  const more = start + limit < sorted.length;
  return { items: evaluated.filter(keep), cursor: more && evaluated.length ? encodeCursor(owner, keyOf(evaluated.at(-1)!)) : undefined };
}

// ---- clock ---------------------------------------------------------------------------------------

/** A clock that moves only when told: expiry is tested by `advance`, never by sleeping. */
export class ManualClock implements Clock {
  #now: number;
  constructor(start: number) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): number {
    this.#now += ms;
    return this.#now;
  }
}

// ---- users ----------------------------------------------------------------------------------------

export class FakeUsers implements UsersPort {
  readonly records = new Map<string, UserRecord>();
  readonly claims = new Map<string, string>();
  readonly #clock: Clock;
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  static #claimKeys(u: Pick<UserRecord, 'email' | 'phone'>): string[] {
    return [...(u.email ? [`email#${u.email}`] : []), ...(u.phone ? [`phone#${u.phone}`] : [])];
  }

  /** Profile and uniqueness claims in one transaction: all or nothing. */
  async create(user: UserRecord): Promise<void> {
    const claims = FakeUsers.#claimKeys(user);
    if (this.records.has(user.userId) || claims.some((c) => this.claims.has(c))) {
      throw new Conflict('An account with this email or phone already exists', 'identifier_taken');
    }
    this.records.set(user.userId, copy(user));
    for (const c of claims) this.claims.set(c, user.userId);
  }

  async get(userId: string): Promise<UserRecord | undefined> {
    const u = this.records.get(userId);
    return u && copy(u);
  }

  async findIdByIdentifier(kind: 'email' | 'phone', value: string): Promise<string | undefined> {
    return this.claims.get(`${kind}#${value}`);
  }

  /** Conditional on the user existing (and, with `unlessStatus`, not having that status); undefined removes a field. */
  async update(userId: string, changes: UserChanges, opts: { unlessStatus?: UserRecord['status'] } = {}): Promise<UserRecord> {
    const current = this.records.get(userId);
    if (!current) throw new NotFound('User not found', 'user_not_found');
    if (opts.unlessStatus && current.status === opts.unlessStatus) throw new Conflict(`The account is ${opts.unlessStatus}`, `already_${opts.unlessStatus}`);
    const next: Record<string, unknown> = { ...current };
    for (const [k, v] of Object.entries({ ...changes, updatedAt: iso(this.#clock.now()) })) {
      if (v === undefined) delete next[k];
      else next[k] = v;
    }
    this.records.set(userId, next as unknown as UserRecord);
    return copy(next as unknown as UserRecord);
  }

  async delete(user: UserRecord): Promise<void> {
    this.records.delete(user.userId);
    for (const c of FakeUsers.#claimKeys(user)) this.claims.delete(c);
  }

  /** The real index partitions by the first two lower-cased characters and sorts by name, then id. */
  async searchByName(prefix: string, limit: number): Promise<{ userId: string; displayName: string }[]> {
    const lower = prefix.toLowerCase();
    const partition = [...lower].slice(0, 2).join('');
    return [...this.records.values()]
      .map((u) => ({ u, key: `${u.displayName.toLowerCase()}#${u.userId}` }))
      .filter(({ key }) => [...key].slice(0, 2).join('') === partition && key.startsWith(lower))
      .sort((a, b) => (a.key < b.key ? -1 : 1))
      .slice(0, limit)
      .map(({ u }) => ({ userId: u.userId, displayName: u.displayName }));
  }

  async displayNames(userIds: readonly string[]): Promise<Map<string, string>> {
    return new Map(userIds.flatMap((id) => (this.records.has(id) ? [[id, this.records.get(id)!.displayName] as const] : [])));
  }

  async rolesOf(userIds: readonly string[]): Promise<Map<string, Role>> {
    return new Map(userIds.flatMap((id) => (this.records.has(id) ? [[id, this.records.get(id)!.role] as const] : [])));
  }
}

// ---- sessions -------------------------------------------------------------------------------------

export class FakeSessions implements SessionsPort {
  readonly families = new Map<string, FamilyRecord>();
  readonly #clock: Clock;
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async create(family: FamilyRecord): Promise<void> {
    if (this.families.has(family.familyId)) throw new Error('ConditionalCheckFailed: family exists');
    this.families.set(family.familyId, copy(family));
  }

  async get(familyId: string): Promise<FamilyRecord | undefined> {
    const f = this.families.get(familyId);
    return f && copy(f);
  }

  /** Swaps the digest only if `presented` is current, the family is not revoked and not past its end. */
  async rotate(familyId: string, presented: string, next: string): Promise<boolean> {
    const f = this.families.get(familyId);
    if (!f || f.currentDigest !== presented || f.revokedAt !== undefined || f.expiresAt <= Math.floor(this.#clock.now() / 1000)) return false;
    f.currentDigest = next;
    f.generation += 1;
    return true;
  }

  /** First revocation wins: an already revoked family keeps its time and reason. */
  async revoke(familyId: string, reason: string): Promise<void> {
    const f = this.families.get(familyId);
    if (!f || f.revokedAt !== undefined) return;
    f.revokedAt = this.#clock.now();
    f.revokeReason = reason;
  }

  async revokeAllForUser(userId: string, reason: string, exceptFamilyId?: string): Promise<number> {
    const ids = [...this.families.values()]
      .filter((f) => f.userId === userId && f.revokedAt === undefined && f.familyId !== exceptFamilyId)
      .map((f) => f.familyId);
    for (const id of ids) await this.revoke(id, reason);
    return ids.length;
  }

  /** Test helper: the user's families. */
  of(userId: string): FamilyRecord[] {
    return [...this.families.values()].filter((f) => f.userId === userId).map(copy);
  }
}

// ---- ephemeral: challenges, limits, tickets -----------------------------------------------------------

interface StoredChallenge {
  digest: string;
  attempts: number;
  codeExpiresAt: number;
  resendAt: number;
  usedAt?: number;
}

export class FakeChallenges implements ChallengesPort {
  readonly items = new Map<string, StoredChallenge>();
  readonly #clock: Clock;
  constructor(clock: Clock) {
    this.#clock = clock;
  }
  static #key = (k: ChallengeKey) => `${k.purpose}#${k.channel}#${k.destinationKey}`;

  async put(key: ChallengeKey, digest: string, expiresAt: number, resendAt: number) {
    const now = this.#clock.now();
    const old = this.items.get(FakeChallenges.#key(key));
    if (old && old.resendAt > now) return { ok: false as const, resendAt: old.resendAt };
    this.items.set(FakeChallenges.#key(key), { digest, attempts: 0, codeExpiresAt: expiresAt, resendAt });
    return { ok: true as const };
  }

  /** One conditional update: exists, attempts left, not used, not expired; then counts the attempt. */
  async attempt(key: ChallengeKey, maxAttempts: number): Promise<ChallengeRecord | undefined> {
    const c = this.items.get(FakeChallenges.#key(key));
    if (!c || c.attempts >= maxAttempts || c.usedAt !== undefined || c.codeExpiresAt <= this.#clock.now()) return undefined;
    c.attempts += 1;
    return { digest: c.digest, attempts: c.attempts, expiresAt: c.codeExpiresAt, resendAt: c.resendAt };
  }

  async markUsed(key: ChallengeKey): Promise<boolean> {
    const c = this.items.get(FakeChallenges.#key(key));
    if (!c || c.usedAt !== undefined) return false;
    c.usedAt = this.#clock.now();
    return true;
  }
}

/**
 * The limiter's semantics over a plain log of accepted hits (the adapter keeps one counter per live
 * sub-window instead): a hit in sub-window j is accepted while fewer than `limit` accepted hits fell
 * in sub-windows j-k..j; a refusal names the start of the sub-window in which the oldest of the
 * latest `limit` hits leaves the window. Exact: each hit is one atomic step here.
 */
export class FakeLimits implements LimitsPort {
  /** Sub-window indexes of the accepted hits per name, key and window length, oldest first. */
  readonly accepted = new Map<string, number[]>();
  readonly #clock: Clock;
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async hit(name: string, key: string, policy: { limit: number; windowSeconds: number }) {
    const g = (policy.windowSeconds * 1000) / LIMIT_SUBWINDOWS;
    const j = Math.floor(this.#clock.now() / g);
    const id = `${name}#${key}#${policy.windowSeconds}`;
    const log = (this.accepted.get(id) ?? []).filter((s) => s >= j - LIMIT_SUBWINDOWS);
    this.accepted.set(id, log);
    if (log.length >= policy.limit) return { allowed: false as const, retryAt: (log[log.length - policy.limit]! + LIMIT_SUBWINDOWS + 1) * g };
    log.push(j);
    return { allowed: true as const };
  }
}

export class FakeTickets implements TicketsPort {
  readonly items = new Map<string, { userId: string; sessionId: string; ticketExpiresAt: number }>();
  readonly #clock: Clock;
  constructor(clock: Clock) {
    this.#clock = clock;
  }
  static #key = (ticket: string) => createHash('sha256').update(ticket).digest('base64url');

  async create(userId: string, sessionId: string, ttlSeconds: number): Promise<string> {
    const ticket = randomBytes(32).toString('base64url');
    this.items.set(FakeTickets.#key(ticket), { userId, sessionId, ticketExpiresAt: this.#clock.now() + ttlSeconds * 1000 });
    return ticket;
  }

  /** One conditional delete: works once, and only while fresh. */
  async consume(ticket: string) {
    if (!/^[A-Za-z0-9_-]{43}$/.test(ticket)) return undefined;
    const key = FakeTickets.#key(ticket);
    const t = this.items.get(key);
    if (!t || t.ticketExpiresAt <= this.#clock.now()) return undefined;
    this.items.delete(key);
    return { userId: t.userId, sessionId: t.sessionId };
  }
}

// ---- secrets, delivery, events ------------------------------------------------------------------------

export const TEST_SECRET = { kid: 'test-1', master: 'unit-test-master-secret-0123456789abcdef' };

/** The OTP queue as the request path sees it; `sent` is what its worker would deliver. */
export class FakeNotifier implements NotifierPort {
  /** Every message put on the queue, deliverable or not. */
  readonly queued: OtpMessage[] = [];
  /** Set to make enqueueing fail (SQS down). */
  failWith: Error | undefined;

  async sendOtp(message: OtpMessage): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.queued.push({ ...message });
  }

  /** The messages the worker delivers (it drops `deliver: false`). */
  get sent(): OtpMessage[] {
    return this.queued.filter((m) => m.deliver);
  }

  /** The code last sent to a destination (what the user reads in their inbox). */
  codeFor(destination: string): string {
    const m = this.sent.findLast((s) => s.destination === destination);
    if (!m) throw new Error(`no code was sent to ${destination}`);
    return m.code;
  }
}

export class FakeEvents implements SecurityEventsPort {
  readonly recorded: { name: string; data: Record<string, unknown> }[] = [];
  record(name: string, data: Record<string, unknown>): void {
    this.recorded.push({ name, data: copy(data) });
  }
  named(name: string) {
    return this.recorded.filter((e) => e.name === name);
  }
}

// ---- business metrics ------------------------------------------------------------------------------

/** Every count, in order, with its dimensions. */
export class FakeMetrics implements MetricsPort {
  readonly counted: { name: BusinessMetric; dimensions: Record<string, string> }[] = [];
  count(name: BusinessMetric, dimensions: Record<string, string> = {}): void {
    this.counted.push({ name, dimensions: copy(dimensions) });
  }
  /** How many times `name` was counted (only with these dimensions, when given). */
  total(name: BusinessMetric, dimensions?: Record<string, string>): number {
    return this.counted.filter((c) => c.name === name && (!dimensions || isDeepStrictEqual(c.dimensions, dimensions))).length;
  }
}

// ---- public keys ------------------------------------------------------------------------------------

export class FakePublicKeys implements PublicKeysPort {
  readonly current = new Map<string, KeyRecord>();
  readonly history = new Map<string, (KeyRecord & { identityChanged: boolean })[]>();

  async getCurrent(userId: string): Promise<KeyRecord | undefined> {
    const k = this.current.get(userId);
    return k && copy(k);
  }

  /** Conditional on the current version still being `previousVersion` (absent for the first); history is never overwritten. */
  async put(key: KeyRecord, previousVersion: number | undefined, identityChanged: boolean): Promise<boolean> {
    const now = this.current.get(key.userId);
    if (previousVersion === undefined ? now !== undefined : now?.version !== previousVersion) return false;
    const history = this.history.get(key.userId) ?? [];
    if (history.some((h) => h.version === key.version)) return false;
    this.current.set(key.userId, copy(key));
    this.history.set(key.userId, [...history, { ...copy(key), identityChanged }]);
    return true;
  }

  async deleteAll(userId: string): Promise<void> {
    this.current.delete(userId);
    this.history.delete(userId);
  }
}

// ---- conversations and messages ----------------------------------------------------------------------

interface MemberItem extends MemberView {
  /** Set when the user took part (opened or sent): only then is the peer a partner (partnersOf). */
  engagedAt?: string;
  /** The inbox sort key: last activity, then conversation. */
  activity: string;
}

interface QueueEntry {
  /** The queue's sort key: the message id, or a fresh id for a late repair (as the adapter). */
  entryId: string;
  conversationId: string;
  messageId: string;
  expiresAt: number;
}

export class FakeConversations implements ConversationsPort {
  readonly metas = new Map<string, { members: string[]; createdAt: string }>();
  readonly members = new Map<string, MemberItem>();
  /** conversationId → messageId → record and its expiry (epoch seconds). */
  readonly messages = new Map<string, Map<string, { record: MessageRecord; expiresAt: number }>>();
  readonly clientIds = new Map<string, string>();
  /** Positions of users without a direct member item here (group members): `${conversationId}|${userId}`. */
  readonly positions = new Map<string, { readUpTo?: string; deliveredUpTo?: string }>();
  /** Per user: the delivery queue, kept sorted by entry id. */
  readonly queues = new Map<string, QueueEntry[]>();
  readonly #clock: Clock;
  readonly #ulid = monotonicFactory();
  constructor(clock: Clock) {
    this.#clock = clock;
  }
  static #member = (c: string, u: string) => `${c}|${u}`;

  #view(m: MemberItem): MemberView {
    const { engagedAt: _e, activity: _a, ...view } = m;
    return copy(view);
  }

  #live(conversationId: string): { record: MessageRecord; expiresAt: number }[] {
    const now = this.#clock.now();
    return [...(this.messages.get(conversationId)?.values() ?? [])].filter((m) => m.expiresAt * 1000 > now);
  }

  async ensureConversation(conversationId: string, a: string, b: string, members: readonly string[] = [a, b]) {
    let createdAt = iso(this.#clock.now());
    const meta = this.metas.get(conversationId);
    const created = !meta;
    if (meta) createdAt = meta.createdAt;
    else this.metas.set(conversationId, { members: [a, b].sort(), createdAt });
    for (const u of members) {
      const key = FakeConversations.#member(conversationId, u);
      if (this.members.has(key)) continue;
      this.members.set(key, {
        conversationId,
        userId: u,
        peerId: u === a ? b : a,
        createdAt,
        engagedAt: createdAt,
        activity: `${createdAt}#${conversationId}`,
      });
    }
    return { created, createdAt };
  }

  async getMember(conversationId: string, userId: string): Promise<MemberView | undefined> {
    const m = this.members.get(FakeConversations.#member(conversationId, userId));
    return m && this.#view(m);
  }

  async getMessage(conversationId: string, messageId: string): Promise<MessageRecord | undefined> {
    const m = this.messages.get(conversationId)?.get(messageId);
    return m && m.expiresAt * 1000 > this.#clock.now() ? copy(m.record) : undefined;
  }

  #enqueue(userId: string, entry: QueueEntry): void {
    const q = this.queues.get(userId) ?? [];
    if (q.some((e) => e.messageId === entry.messageId)) return;
    this.queues.set(
      userId,
      [...q, entry].sort((x, y) => (x.entryId < y.entryId ? -1 : 1)),
    );
  }

  #touchInbox(req: SendRequest, message: MessageRecord, userId: string, peerId: string): void {
    const key = FakeConversations.#member(req.conversationId, userId);
    const old = this.members.get(key);
    // forward only, as the adapter's condition
    if (old?.lastMessageId !== undefined && !(old.lastMessageId < message.messageId)) return;
    this.members.set(key, {
      ...old,
      conversationId: req.conversationId,
      userId,
      peerId,
      createdAt: old?.createdAt ?? message.sentAt,
      lastMessageId: message.messageId,
      lastMessageAt: message.sentAt,
      lastSenderId: req.senderId,
      activity: `${message.sentAt}#${req.conversationId}`,
      ...(userId === req.senderId ? { engagedAt: old?.engagedAt ?? message.sentAt } : {}),
    });
  }

  /** Once per (conversation, sender, clientMessageId); the recipient's queue gets a copy; hidden sends touch the sender's side only. */
  async storeMessage(req: SendRequest, onRecorded?: (message: MessageRecord) => void): Promise<StoredSend> {
    const cmid = `${req.conversationId}|${req.senderId}|${req.clientMessageId}`;
    const firstId = this.clientIds.get(cmid);
    if (firstId) {
      const existing = await this.getMessage(req.conversationId, firstId);
      if (existing) return { message: existing, duplicate: true };
    }
    const now = this.#clock.now();
    const message = messageRecord(req, this.#ulid(now), now);
    const expiresAt = Math.floor(now / 1000) + req.retentionSeconds;
    onRecorded?.(copy(message));
    const conv = this.messages.get(req.conversationId) ?? new Map();
    conv.set(message.messageId, { record: copy(message), expiresAt });
    this.messages.set(req.conversationId, conv);
    this.clientIds.set(cmid, message.messageId);
    this.#touchInbox(req, message, req.senderId, req.recipientId);
    if (!req.hiddenFrom) {
      this.#enqueue(req.recipientId, { entryId: message.messageId, conversationId: req.conversationId, messageId: message.messageId, expiresAt });
      this.#touchInbox(req, message, req.recipientId, req.senderId);
    }
    return { message: copy(message), duplicate: false };
  }

  /** Conditional: the member exists and the position is unset or lower. */
  async advancePosition(conversationId: string, userId: string, field: 'readUpTo' | 'deliveredUpTo', messageId: string): Promise<boolean> {
    const m = this.members.get(FakeConversations.#member(conversationId, userId));
    if (!m) {
      // as the adapter's POS#u item: an upsert that needs no member item (a group's members are MEMBER#, apart)
      const key = FakeConversations.#member(conversationId, userId);
      const pos = this.positions.get(key) ?? {};
      const at = pos[field];
      if (at !== undefined && !(at < messageId)) return false;
      this.positions.set(key, { ...pos, [field]: messageId });
      return true;
    }
    const at = m[field];
    if (at !== undefined && !(at < messageId)) return false;
    m[field] = messageId;
    return true;
  }

  /** Latest activity first, as the byMember index read backwards. */
  async partnersOf(userId: string, limit?: number): Promise<string[]> {
    const engaged = [...this.members.values()].filter((m) => m.userId === userId && m.engagedAt !== undefined);
    const peers = engaged.sort((x, y) => (x.activity < y.activity ? 1 : x.activity > y.activity ? -1 : 0)).map((m) => m.peerId);
    return limit === undefined ? peers : peers.slice(0, limit);
  }

  /** Newest first, `before` exclusive; the limit counts messages before hidden ones are filtered out. */
  async history(conversationId: string, viewerId: string, before: string | undefined, limit: number) {
    const candidates = this.#live(conversationId)
      .map((m) => m.record)
      .filter((m) => before === undefined || m.messageId < before)
      .sort((x, y) => (x.messageId < y.messageId ? 1 : -1));
    const evaluated = candidates.slice(0, limit);
    // as the adapter's filter: only messages addressed to the viewer, never one hidden from them
    const messages = evaluated
      .filter((m) => (m.senderId === viewerId || m.recipientId === viewerId) && m.hiddenFrom !== viewerId)
      .map(({ hiddenFrom: _h, ...rest }) => copy(rest));
    return candidates.length > limit ? { messages, before: evaluated.at(-1)!.messageId } : { messages };
  }

  /** As the adapter: the queue after the cursor's settled position, skipping the ids it lists. */
  async syncStream(userId: string, afterText: string | undefined, limit: number) {
    const now = this.#clock.now();
    const after = parseSyncCursor(afterText);
    const take = Math.min(limit, Math.max(0, SYNC_CURSOR_MAX_RECENT - after.recent.size));
    const all = (this.queues.get(userId) ?? []).filter((e) => e.entryId > after.settled);
    const entries = all.filter((e) => !after.recent.has(e.entryId));
    const taken = entries.slice(0, take);
    const more = entries.length > take;
    // the scan went through the taken entries and the already-returned ones before the next untaken one
    const next = entries[take];
    const scanned = all.filter((e) => !next || e.entryId < next.entryId);
    const messages: Omit<MessageRecord, 'hiddenFrom'>[] = [];
    for (const e of taken) {
      const m = this.messages.get(e.conversationId)?.get(e.messageId);
      if (m && e.expiresAt * 1000 > now) {
        const { hiddenFrom: _h, ...rest } = copy(m.record);
        messages.push(rest);
      }
    }
    return {
      messages,
      cursor: nextSyncCursor(
        after,
        taken.map((e) => e.entryId),
        more ? (scanned.at(-1)?.entryId ?? after.settled) : null,
        now,
      ),
      hasMore: more,
    };
  }

  async inbox(userId: string, limit: number, cursor?: string): Promise<Page<MemberView>> {
    const sorted = [...this.members.values()].filter((m) => m.userId === userId).sort((a, b) => (a.activity < b.activity ? 1 : -1));
    const p = page(sorted, (m) => m.activity, `inbox#${userId}`, limit, cursor);
    return { items: p.items.map((m) => this.#view(m)), cursor: p.cursor };
  }

  async readPositions(conversationIds: readonly string[], userId: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const c of conversationIds) {
      const at = this.members.get(FakeConversations.#member(c, userId))?.readUpTo ?? this.positions.get(FakeConversations.#member(c, userId))?.readUpTo;
      if (at) out.set(c, at);
    }
    return out;
  }

  /** Counted over at most `cap` messages after the read position, as the real Query's Limit does. */
  async countUnread(conversationId: string, userId: string, readUpTo: string | undefined, cap = 100): Promise<number> {
    return this.#live(conversationId)
      .map((m) => m.record)
      .filter((m) => readUpTo === undefined || m.messageId > readUpTo)
      .sort((x, y) => (x.messageId < y.messageId ? -1 : 1))
      .slice(0, cap)
      .filter((m) => m.senderId !== userId && m.hiddenFrom !== userId).length;
  }
}

// ---- realtime connections ------------------------------------------------------------------------

/** As the real adapter: API Gateway closes sockets after 2 h; rows live a little longer. */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60 + 10 * 60;
/** As the real adapter: a gone id this young, whose row exists, may still be in its $connect and is never pruned. */
export const PENDING_CONNECT_SECONDS = 60;

/** The connections table: rows, @connections, and the socket sets with their presence state (SocketSetsPort). */
export class FakeConnections implements ConnectionsPort, SocketSetsPort {
  readonly rows = new Map<string, ConnectionRow & { expiresAt: number }>();
  /** Sockets the client dropped without a $disconnect: @connections answers 410 Gone. */
  readonly gone = new Set<string>();
  /** Frames delivered to sockets, in order. */
  readonly delivered: { connectionId: string; userId: string | undefined; frame: unknown }[] = [];
  /** Sockets the server closed (logout, sanctions, ...). */
  readonly closed: { connectionId: string; userId: string | undefined; sessionId: string | undefined }[] = [];
  /** Each user's socket set (USER#u / SOCKETS): ids, epoch and the last announced status. */
  readonly sockets = new Map<string, SocketSet>();
  /** How many @connections GetConnection calls pruneGone made (test helper). */
  lookups = 0;
  readonly #clock: Clock;
  #next = 0;
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Test helper: a signed-in socket of this user and session (what $connect would have saved). */
  open(userId: string, sessionId: string): string {
    const connectionId = `conn-${++this.#next}`;
    this.rows.set(connectionId, { connectionId, userId, sessionId, connectedAt: iso(this.#clock.now()), expiresAt: this.#expiry() });
    return connectionId;
  }

  #expiry(): number {
    return Math.floor(this.#clock.now() / 1000) + CONNECTION_TTL_SECONDS;
  }

  #rowsOf(userId: string) {
    const nowSeconds = Math.floor(this.#clock.now() / 1000);
    return [...this.rows.values()].filter((r) => r.userId === userId && !(r.expiresAt < nowSeconds));
  }

  /** Frames that reached this user's sockets (test helper). */
  framesFor(userId: string): unknown[] {
    return this.delivered.filter((d) => d.userId === userId).map((d) => d.frame);
  }

  /** Frames that reached one socket (test helper). */
  framesOn(connectionId: string): unknown[] {
    return this.delivered.filter((d) => d.connectionId === connectionId).map((d) => d.frame);
  }

  /** Test helper: is this socket still open and registered for pushes? */
  isOpen(connectionId: string): boolean {
    return this.rows.has(connectionId) && !this.gone.has(connectionId) && !this.closed.some((c) => c.connectionId === connectionId);
  }

  async save(row: ConnectionRow): Promise<void> {
    this.rows.set(row.connectionId, { ...copy(row), expiresAt: this.#expiry() });
  }

  #set(userId: string): SocketSet {
    let set = this.sockets.get(userId);
    if (!set) this.sockets.set(userId, (set = { ids: [], epoch: 0, online: false }));
    return set;
  }

  #drop(userId: string, ids: readonly string[]): SocketSet {
    const set = this.sockets.get(userId);
    if (!set) return { ids: [], epoch: 0, online: false };
    set.ids = set.ids.filter((id) => !ids.includes(id));
    return copy(set);
  }

  async join(userId: string, connectionId: string) {
    const set = this.#set(userId);
    const cameOnline = !set.online;
    if (!set.ids.includes(connectionId)) set.ids.push(connectionId);
    set.epoch++;
    set.online = true;
    return { cameOnline };
  }

  async leave(userId: string, connectionId: string): Promise<SocketSet> {
    this.rows.delete(connectionId);
    return this.#drop(userId, [connectionId]);
  }

  async pruneGone(userId: string, set: SocketSet): Promise<SocketSet> {
    this.lookups += set.ids.length;
    const stale = set.ids.filter((id) => {
      if (!this.gone.has(id)) return false;
      const row = this.rows.get(id);
      return !row || Date.parse(row.connectedAt) < this.#clock.now() - PENDING_CONNECT_SECONDS * 1000;
    });
    if (stale.length === 0) return set;
    for (const id of stale) this.rows.delete(id);
    return this.#drop(userId, stale);
  }

  async claimOffline(userId: string, epoch: number): Promise<boolean> {
    const set = this.sockets.get(userId);
    if (!set?.online || set.epoch !== epoch || set.ids.length > 0) return false;
    set.online = false;
    return true;
  }

  async remove(connectionId: string): Promise<void> {
    const userId = this.rows.get(connectionId)?.userId;
    this.rows.delete(connectionId);
    if (userId) this.#drop(userId, [connectionId]);
  }

  async ownerOf(connectionId: string) {
    const r = this.rows.get(connectionId);
    if (!r?.userId || r.expiresAt * 1000 < this.#clock.now()) return undefined;
    return { userId: r.userId, ...(r.sessionId ? { sessionId: r.sessionId } : {}) };
  }

  async openConnections(userId: string): Promise<string[]> {
    return this.#rowsOf(userId).map((r) => r.connectionId);
  }

  async send(connectionId: string, frame: unknown): Promise<boolean> {
    if (this.gone.has(connectionId) || this.closed.some((c) => c.connectionId === connectionId)) return false;
    this.delivered.push({ connectionId, userId: this.rows.get(connectionId)?.userId, frame: copy(frame) });
    return true;
  }

  /** Frames leave through their contract schema, as in the real adapter; a gone socket's row is deleted. */
  async push(userIds: readonly string[], frame: Parameters<ConnectionsPort['push']>[1], exceptConnectionId?: string) {
    const targets = [...new Set(userIds)].flatMap((u) => this.#rowsOf(u)).filter((r) => r.connectionId !== exceptConnectionId);
    return this.pushTo(
      targets.map((r) => r.connectionId),
      frame,
    );
  }

  async pushTo(connectionIds: readonly string[], frame: Parameters<ConnectionsPort['push']>[1]) {
    const shaped = shapeOutput(pushFrames[frame.type], frame, `${frame.type} frame`);
    let delivered = 0;
    let gone = 0;
    for (const id of connectionIds) {
      if (await this.send(id, shaped)) delivered++;
      else {
        await this.remove(id);
        gone++;
      }
    }
    return { delivered, gone };
  }

  async end(connectionId: string): Promise<void> {
    const row = this.rows.get(connectionId);
    await this.remove(connectionId);
    this.closed.push({ connectionId, userId: row?.userId, sessionId: row?.sessionId });
  }

  async endForUser(userId: string, filter: { onlySession?: string; exceptSession?: string; notice?: unknown } = {}): Promise<number> {
    const rows = this.#rowsOf(userId).filter(
      (r) =>
        (filter.onlySession === undefined || r.sessionId === filter.onlySession) &&
        (filter.exceptSession === undefined || r.sessionId !== filter.exceptSession),
    );
    for (const r of rows) {
      if (filter.notice) await this.send(r.connectionId, filter.notice);
      await this.end(r.connectionId);
    }
    return rows.length;
  }
}

// ---- devices and device links --------------------------------------------------------------------------

/** Device records beside their families, as the sessions table holds them; expired ones read as absent. */
export class FakeDevices implements DevicesPort {
  readonly records = new Map<string, DeviceRecord>();
  readonly #clock: Clock;
  readonly #sessions: FakeSessions;
  constructor(clock: Clock, sessions: FakeSessions) {
    this.#clock = clock;
    this.#sessions = sessions;
  }

  #live(d: DeviceRecord | undefined): DeviceRecord | undefined {
    return d && d.expiresAt * 1000 > this.#clock.now() ? copy(d) : undefined;
  }

  async create(device: DeviceRecord): Promise<void> {
    if (this.records.has(device.deviceId)) throw new Error('ConditionalCheckFailed: device exists');
    this.records.set(device.deviceId, copy(device));
  }

  async list(userId: string): Promise<DeviceRecord[]> {
    return [...this.records.values()].filter((d) => d.userId === userId).flatMap((d) => this.#live(d) ?? []);
  }

  async get(userId: string, deviceId: string): Promise<DeviceRecord | undefined> {
    const d = this.records.get(deviceId);
    return d?.userId === userId ? this.#live(d) : undefined;
  }

  async rename(userId: string, deviceId: string, name: string): Promise<DeviceRecord | undefined> {
    const d = await this.get(userId, deviceId);
    if (!d) return undefined;
    this.records.get(deviceId)!.name = name;
    return { ...d, name };
  }

  async delete(userId: string, deviceId: string): Promise<void> {
    if (this.records.get(deviceId)?.userId === userId) this.records.delete(deviceId);
  }

  async deleteAll(userId: string): Promise<void> {
    for (const d of await this.list(userId)) this.records.delete(d.deviceId);
  }

  async families(familyIds: readonly string[]): Promise<FamilyRecord[]> {
    return (await Promise.all(familyIds.map((id) => this.#sessions.get(id)))).filter((f): f is FamilyRecord => f !== undefined);
  }
}

/** Link requests with the real adapter's conditions: expiry on every read and write, one approval, one claim. */
export class FakeDeviceLinks implements DeviceLinksPort {
  readonly links = new Map<string, DeviceLinkRecord>();
  readonly #clock: Clock;
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async create(link: DeviceLinkRecord): Promise<void> {
    if (this.links.has(link.linkId)) throw new Error('ConditionalCheckFailed: link exists');
    this.links.set(link.linkId, copy(link));
  }

  async get(linkId: string): Promise<DeviceLinkRecord | undefined> {
    const l = this.links.get(linkId);
    return l && l.linkExpiresAt > this.#clock.now() ? copy(l) : undefined;
  }

  async approve(linkId: string, approval: NonNullable<DeviceLinkRecord['approval']>): Promise<boolean> {
    const l = this.links.get(linkId);
    if (!l || l.approval || l.linkExpiresAt <= this.#clock.now()) return false;
    l.approval = copy(approval);
    return true;
  }

  async claim(linkId: string, secretDigest: string): Promise<DeviceLinkRecord | undefined> {
    const l = this.links.get(linkId);
    if (!l || !l.approval || l.secretDigest !== secretDigest || l.linkExpiresAt <= this.#clock.now()) return undefined;
    this.links.delete(linkId);
    return copy(l);
  }
}

/** The presence queue: keeps what was sent, with its delay; tests hand the messages to settleOffline. */
export class FakePresenceQueue implements PresenceQueuePort {
  readonly sent: { notice: OfflineNotice; delaySeconds: number }[] = [];
  #next = 0;

  async offlineLater(notice: OfflineNotice, delaySeconds: number): Promise<void> {
    this.sent.push({ notice: copy(notice), delaySeconds });
  }

  /** The sent messages as SQS hands them to the worker (and empties the queue). */
  take(): { id: string; body: string; receiveCount: number }[] {
    return this.sent.splice(0).map((m) => ({ id: `msg-${++this.#next}`, body: JSON.stringify(m.notice), receiveCount: 1 }));
  }
}

// ---- moderation: blocks, reports, audit ----------------------------------------------------------------

/** Each block is written with its mirror (blocked-by), so both sides' relations are one lookup. */
export class FakeBlocks implements BlocksPort {
  readonly blocks = new Map<string, { blocker: string; blocked: string; blockedAt: string }>();
  readonly blockedBy = new Map<string, { blocker: string; blocked: string; blockedAt: string }>();
  readonly #clock: Clock;
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async block(blocker: string, blocked: string) {
    const existing = this.blocks.get(`${blocker}|${blocked}`);
    if (existing) return { blockedAt: existing.blockedAt };
    const item = { blocker, blocked, blockedAt: iso(this.#clock.now()) };
    this.blocks.set(`${blocker}|${blocked}`, item);
    this.blockedBy.set(`${blocked}|${blocker}`, item);
    return { blockedAt: item.blockedAt };
  }

  async unblock(blocker: string, blocked: string): Promise<void> {
    this.blocks.delete(`${blocker}|${blocked}`);
    this.blockedBy.delete(`${blocked}|${blocker}`);
  }

  async blockPair(a: string, b: string): Promise<[boolean, boolean]> {
    if (a === b) return [false, false];
    return [this.blocks.has(`${a}|${b}`), this.blocks.has(`${b}|${a}`)];
  }

  async blockRelations(userId: string): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const b of this.blocks.values()) if (b.blocker === userId) ids.add(b.blocked);
    for (const b of this.blockedBy.values()) if (b.blocked === userId) ids.add(b.blocker);
    return ids;
  }

  async blockersOf(userId: string): Promise<Set<string>> {
    return new Set([...this.blocks.values()].filter((b) => b.blocked === userId).map((b) => b.blocker));
  }

  /** Ordered as the real sort key (BLOCK#<blocked id>). */
  async listBlocked(blocker: string, limit: number, cursor?: string) {
    const sorted = [...this.blocks.values()].filter((b) => b.blocker === blocker).sort((x, y) => (x.blocked < y.blocked ? -1 : 1));
    const p = page(sorted, (b) => b.blocked, `blocked#${blocker}`, limit, cursor);
    return { items: p.items.map((b) => ({ userId: b.blocked, blockedAt: b.blockedAt })), cursor: p.cursor };
  }
}

export class FakeModeration implements ModerationPort, AuditChainPort {
  readonly reports = new Map<string, ReportRecord>();
  /** Dedupe key → the unresolved report holding it. */
  readonly activeKeys = new Map<string, string>();
  /** Target → reporter → the last time they filed a report about the target that counts (auto-restriction). */
  readonly reporters = new Map<string, Map<string, string>>();
  /** As stored: with place and hashes (seq, prevHash, hash). */
  readonly audit: (AuditEntry & { seq: number; prevHash: string; hash: string })[] = [];
  auditHeadItem: Record<string, unknown> | undefined;
  readonly #clock: Clock;
  readonly #ulid = monotonicFactory();
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async putReport(report: ReportRecord & { dedupeKey: string }, counts: boolean) {
    const existingId = this.activeKeys.get(report.dedupeKey);
    if (existingId) return { created: false as const, existingId };
    if (this.reports.has(report.reportId)) throw new Error('ConditionalCheckFailed: report id exists');
    this.activeKeys.set(report.dedupeKey, report.reportId);
    this.reports.set(report.reportId, copy(report));
    const of = this.reporters.get(report.targetUserId) ?? new Map<string, string>();
    if (counts) of.set(report.reporterId, report.createdAt); // a report that does not count leaves an earlier one's time
    this.reporters.set(report.targetUserId, of);
    return { created: true as const };
  }

  async getReport(reportId: string): Promise<ReportRecord | undefined> {
    const r = this.reports.get(reportId);
    return r && copy(r);
  }

  /**
   * Writes `{ ...report, ...changes }` if the stored status is one of `from`; resolving also
   * releases the dedupe key if this report holds it (another unresolved report may hold it instead).
   */
  async updateReport(report: ReportRecord, from: ReportStatus[], changes: Partial<ReportRecord> & { status: ReportStatus }) {
    const stored = this.reports.get(report.reportId);
    if (!stored || !from.includes(stored.status)) return undefined;
    const next: Record<string, unknown> = { ...report, ...changes };
    for (const [k, v] of Object.entries(next)) if (v === undefined) delete next[k];
    const resolving = next.status === 'actioned' || next.status === 'dismissed';
    if (resolving && report.dedupeKey && this.activeKeys.get(report.dedupeKey) === report.reportId) this.activeKeys.delete(report.dedupeKey);
    this.reports.set(report.reportId, copy(next) as unknown as ReportRecord);
    return copy(next) as unknown as ReportRecord;
  }

  /**
   * Puts `previous` back whole if the stored report is still as `claimed` left it, and takes the
   * dedupe key again unless a report filed meanwhile holds it (that one keeps it, as in the table).
   */
  async reopenReport(claimed: ReportRecord, previous: ReportRecord): Promise<boolean> {
    const stored = this.reports.get(previous.reportId);
    if (!stored || (['status', 'decision', 'moderatorId', 'updatedAt'] as const).some((f) => stored[f] !== claimed[f])) return false;
    if (previous.dedupeKey && !this.activeKeys.has(previous.dedupeKey)) this.activeKeys.set(previous.dedupeKey, previous.reportId);
    this.reports.set(previous.reportId, copy(previous));
    return true;
  }

  async distinctReporters(targetUserId: string, sinceIso: string): Promise<number> {
    return [...(this.reporters.get(targetUserId)?.values() ?? [])].filter((at) => at >= sinceIso).length;
  }

  async reportsOf(userId: string, which: 'filed' | 'about', limit: number, cursor?: string) {
    const key = (r: ReportRecord) => `${r.createdAt}#${r.reportId}`;
    const mine = [...this.reports.values()]
      .filter((r) => (which === 'filed' ? r.reporterId : r.targetUserId) === userId)
      .sort((a, b) => (key(a) < key(b) ? 1 : -1));
    const p = page(mine, key, `${which}#${userId}`, limit, cursor);
    return { items: p.items.map(copy), cursor: p.cursor };
  }

  async reportQueue(status: ReportStatus, reason: string | undefined, limit: number, cursor?: string) {
    const key = (r: ReportRecord) => `${r.createdAt}#${r.reportId}`;
    const queue = [...this.reports.values()].filter((r) => r.status === status).sort((a, b) => (key(a) < key(b) ? -1 : 1));
    const p = page(queue, key, `queue#${status}`, limit, cursor, (r) => reason === undefined || r.reason === reason);
    return { items: p.items.map(copy), cursor: p.cursor };
  }

  /** Append-only and chained as the table does it; id and time are assigned here, at write time. */
  async appendAudit(entry: Omit<AuditEntry, 'auditId' | 'at'>): Promise<AuditEntry> {
    const now = this.#clock.now();
    const full = { ...copy(entry), auditId: this.#ulid(now), at: iso(now) };
    const head = this.auditHeadItem as AuditHead | undefined;
    const seq = (head?.seq ?? 0) + 1;
    const prevHash = head?.hash ?? GENESIS;
    const hash = auditHash({ ...full, seq }, prevHash);
    this.audit.push({ ...full, seq, prevHash, hash });
    this.auditHeadItem = { auditId: full.auditId, at: full.at, seq, hash };
    return copy(full);
  }

  /** Newest first, without the chain fields. */
  async listAudit(limit: number, cursor?: string) {
    const sorted = [...this.audit].sort((a, b) => (a.auditId < b.auditId ? 1 : -1));
    const p = page(sorted, (e) => e.auditId, 'audit', limit, cursor);
    return { items: p.items.map(({ seq: _s, prevHash: _p, hash: _h, ...e }) => copy(e)), cursor: p.cursor };
  }

  async auditHead() {
    return this.auditHeadItem && copy(this.auditHeadItem);
  }

  /** Oldest first, keyed by id; tests tamper with `audit` and `auditHeadItem` as an operator with table access could. */
  async *auditEntries() {
    for (const e of [...this.audit].sort((a, b) => (a.auditId < b.auditId ? -1 : 1))) yield { key: e.auditId, item: copy(e) as Record<string, unknown> };
  }
}

// ---- groups ---------------------------------------------------------------------------------------------

/** The other fakes a group send reads through. */
interface GroupWorld {
  users: FakeUsers;
  sessions: FakeSessions;
  blocks: FakeBlocks;
  publicKeys: FakePublicKeys;
  connections: FakeConnections;
}

/**
 * Groups (messages table, CONV#<gid>) as groups-table.ts, group-send.ts and group-signals.ts keep them:
 * META, MEMBER, INVITE items, the per-user group count, each member's own copies (VIEW#u#ulid), the
 * queue entries and the idempotency records, with the same conditions (counts as read, limits).
 */
export class FakeGroups implements GroupsPort, GroupSendPort, GroupReportsPort {
  readonly metas = new Map<string, GroupMeta>();
  /** group → member → record */
  readonly members = new Map<string, Map<string, GroupMemberRecord>>();
  readonly invitations = new Map<string, GroupInvitationRecord>();
  readonly groupCounts = new Map<string, number>();
  /** `${g}|${member}` → that member's copies (messages and system entries), with their expiry. */
  readonly views = new Map<string, { record: MessageRecord; expiresAt: number }[]>();
  /** Delivery-queue entries written by group sends, per member. */
  readonly queued = new Map<string, MessageRecord[]>();
  /** The queue entries' ids (keys), in the order of `queued`: the message's own id, or a late repair's fresh one. */
  readonly queueIds = new Map<string, string[]>();
  readonly cmids = new Map<
    string,
    { base: Omit<MessageRecord, 'recipientId' | 'recipientKeyVersion'>; copies: GroupSendRequest['copies']; expiresAt: number; requeuedAs?: string }
  >();
  /** Test helper: the next store writes its idempotency record, then throws before the copies (a crash). */
  crashAfterRecord = false;
  readonly #clock: Clock;
  readonly #ulid = monotonicFactory();
  readonly #w: GroupWorld;
  constructor(clock: Clock, world: GroupWorld) {
    this.#clock = clock;
    this.#w = world;
  }
  static #k = (g: string, u: string) => `${g}|${u}`;

  #roster(g: string) {
    return this.members.get(g) ?? new Map<string, GroupMemberRecord>();
  }

  /** Test helper: the copies a member holds, oldest first (system entries included). */
  copiesOf(g: string, userId: string): MessageRecord[] {
    const now = this.#clock.now();
    return (this.views.get(FakeGroups.#k(g, userId)) ?? []).filter((v) => v.expiresAt * 1000 > now).map((v) => copy(v.record));
  }

  async create(meta: GroupMeta, creator: GroupMemberRecord, maxPerUser: number): Promise<boolean> {
    if ((this.groupCounts.get(creator.userId) ?? 0) >= maxPerUser) return false;
    this.metas.set(meta.conversationId, copy(meta));
    this.members.set(meta.conversationId, new Map([[creator.userId, copy(creator)]]));
    this.groupCounts.set(creator.userId, (this.groupCounts.get(creator.userId) ?? 0) + 1);
    return true;
  }

  async getMember(g: string, userId: string) {
    const m = this.#roster(g).get(userId);
    return m && copy(m);
  }

  async roster(g: string) {
    const meta = this.metas.get(g);
    const members = [...this.#roster(g).values()].sort((a, b) => (a.userId < b.userId ? -1 : 1)).map(copy);
    return meta ? { meta: copy(meta), members } : { members };
  }

  async invite(invitations: readonly GroupInvitationRecord[]) {
    for (const i of invitations) this.invitations.set(FakeGroups.#k(i.conversationId, i.userId), copy(i));
  }

  async getInvitation(g: string, userId: string) {
    const i = this.invitations.get(FakeGroups.#k(g, userId));
    return i && copy(i);
  }

  async deleteInvitation(g: string, userId: string) {
    return this.invitations.delete(FakeGroups.#k(g, userId));
  }

  async invitationsOf(userId: string, limit: number, cursor?: string) {
    const mine = [...this.invitations.values()].filter((i) => i.userId === userId).sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
    return page(mine.map(copy), (i) => `${i.createdAt}#${i.conversationId}`, `invites:${userId}`, limit, cursor);
  }

  async accept(invitation: GroupInvitationRecord, joinedAt: string, limits: { maxMembers: number; maxPerUser: number }) {
    const { conversationId: g, userId } = invitation;
    const meta = this.metas.get(g);
    if (!this.invitations.has(FakeGroups.#k(g, userId)) || !meta || this.#roster(g).has(userId)) return 'gone' as const;
    if (meta.memberCount >= limits.maxMembers) return 'group_full' as const;
    if ((this.groupCounts.get(userId) ?? 0) >= limits.maxPerUser) return 'too_many_groups' as const;
    this.invitations.delete(FakeGroups.#k(g, userId));
    meta.memberCount++;
    this.#roster(g).set(userId, { conversationId: g, userId, role: 'member', joinedAt, invitedBy: invitation.inviterId });
    this.groupCounts.set(userId, (this.groupCounts.get(userId) ?? 0) + 1);
    return 'joined' as const;
  }

  async removeMember(g: string, userId: string, seen: RosterVersion, removedRole: GroupRole, promote?: string) {
    const meta = this.metas.get(g);
    const roster = this.#roster(g);
    if (!meta || meta.memberCount !== seen.memberCount || meta.adminCount !== seen.adminCount || !roster.has(userId)) return false;
    if (promote && !roster.has(promote)) return false;
    meta.memberCount = seen.memberCount - 1;
    meta.adminCount = seen.adminCount + (removedRole === 'admin' && !promote ? -1 : 0);
    roster.delete(userId);
    this.groupCounts.set(userId, Math.max(0, (this.groupCounts.get(userId) ?? 1) - 1));
    if (promote) roster.get(promote)!.role = 'admin';
    return true;
  }

  async setRole(g: string, userId: string, role: GroupRole, seen: RosterVersion, previous: GroupRole) {
    const meta = this.metas.get(g);
    const member = this.#roster(g).get(userId);
    if (!meta || meta.memberCount !== seen.memberCount || meta.adminCount !== seen.adminCount || member?.role !== previous) return false;
    meta.adminCount = seen.adminCount + (role === previous ? 0 : role === 'admin' ? 1 : -1);
    member.role = role;
    return true;
  }

  async rename(g: string, name: string) {
    const meta = this.metas.get(g);
    if (!meta) return false;
    meta.name = name;
    return true;
  }

  async appendEvent(g: string, viewers: readonly string[], actorId: string, event: { type: GroupEvent; userId?: string; role?: string; name?: string }) {
    const now = this.#clock.now();
    const messageId = this.#ulid(now);
    const expiresAt = Math.floor(now / 1000) + 30 * 86400;
    for (const viewer of viewers) {
      const record: MessageRecord = {
        conversationId: g,
        messageId,
        clientMessageId: `system-${messageId}`,
        senderId: actorId,
        recipientId: viewer,
        ciphertext: '',
        nonce: '',
        senderKeyVersion: 0,
        recipientKeyVersion: 0,
        sentAt: iso(now),
        event: copy(event) as MessageRecord['event'],
      };
      this.#addView(g, viewer, record, expiresAt);
    }
  }

  #addView(g: string, viewer: string, record: MessageRecord, expiresAt: number) {
    const list = this.views.get(FakeGroups.#k(g, viewer)) ?? [];
    const i = list.findIndex((v) => v.record.messageId === record.messageId);
    if (i >= 0) list[i] = { record: copy(record), expiresAt };
    else list.push({ record: copy(record), expiresAt });
    list.sort((a, b) => (a.record.messageId < b.record.messageId ? -1 : 1));
    this.views.set(FakeGroups.#k(g, viewer), list);
  }

  // -- GroupSendPort --

  async load({ senderId, conversationId, sessionId }: { senderId: string; conversationId: string; sessionId?: string | undefined }) {
    const [family, caller, group, blockers] = await Promise.all([
      sessionId ? this.#w.sessions.get(sessionId) : undefined,
      this.#w.users.get(senderId),
      this.roster(conversationId),
      this.#w.blocks.blockersOf(senderId),
    ]);
    return { family, caller, meta: group.meta, members: group.members, blockers, attachments: new Map() };
  }

  async recipients(userIds: readonly string[]) {
    const keyVersions = new Map<string, number>();
    const sockets = new Map<string, string[]>();
    for (const u of userIds) {
      const k = await this.#w.publicKeys.getCurrent(u);
      if (k) keyVersions.set(u, k.version);
      const ids = await this.#w.connections.openConnections(u);
      if (ids.length) sockets.set(u, ids);
    }
    return { keyVersions, sockets };
  }

  /** `entryIdFor`: the member's queue entry id (the message's own by default), or none to write; `queueIds` records it. */
  #writeCopies(
    req: GroupSendRequest,
    base: Omit<MessageRecord, 'recipientId' | 'recipientKeyVersion'>,
    expiresAt: number,
    entryIdFor: (userId: string) => string | undefined = () => base.messageId,
  ): MessageRecord[] {
    return req.copies.map((c) => {
      const record: MessageRecord = { ...base, recipientId: c.userId, recipientKeyVersion: c.key.keyVersion, key: c.key };
      this.#addView(req.conversationId, c.userId, record, expiresAt);
      const entryId = c.userId === req.senderId ? undefined : entryIdFor(c.userId);
      if (entryId) {
        const q = this.queued.get(c.userId) ?? [];
        const ids = this.queueIds.get(c.userId) ?? [];
        if (!ids.includes(entryId)) {
          q.push(copy(record));
          ids.push(entryId);
        }
        this.queued.set(c.userId, q);
        this.queueIds.set(c.userId, ids);
      }
      return copy(record);
    });
  }

  async store(req: GroupSendRequest) {
    const now = this.#clock.now();
    const key = `${req.conversationId}|${req.senderId}|${req.clientMessageId}`;
    const first = this.cmids.get(key);
    if (first) {
      // past the settle horizon, missing queue entries go under one fresh id, claimed once (requeuedAs)
      const late = now - Date.parse(first.base.sentAt) >= SYNC_SETTLE_SECONDS * 1000;
      const missing = first.copies.filter(
        (c) => c.userId !== req.senderId && !(this.queued.get(c.userId) ?? []).some((m) => m.messageId === first.base.messageId),
      );
      const fresh = late && missing.length && !first.requeuedAs ? (first.requeuedAs = this.#ulid(now)) : undefined;
      const copies = this.#writeCopies(
        { ...req, copies: first.copies },
        first.base,
        first.expiresAt,
        late ? (u) => (fresh && missing.some((c) => c.userId === u) ? fresh : undefined) : undefined,
      );
      return { message: copies.find((c) => c.recipientId === req.senderId) ?? copies[0]!, copies, duplicate: true };
    }
    const base = {
      conversationId: req.conversationId,
      messageId: this.#ulid(now),
      clientMessageId: req.clientMessageId,
      senderId: req.senderId,
      ciphertext: req.ciphertext,
      nonce: req.nonce,
      senderKeyVersion: req.senderKeyVersion,
      sentAt: iso(now),
    };
    const expiresAt = Math.floor(now / 1000) + req.retentionSeconds;
    this.cmids.set(key, { base, copies: copy(req.copies), expiresAt });
    if (this.crashAfterRecord) {
      this.crashAfterRecord = false;
      throw new Error('crashed after the idempotency record');
    }
    const copies = this.#writeCopies(req, base, expiresAt);
    return { message: copies.find((c) => c.recipientId === req.senderId)!, copies, duplicate: false };
  }

  // -- the socket sets (group signals) and GroupReportsPort --

  async sockets(userIds: readonly string[]) {
    const out = new Map<string, string[]>();
    for (const u of userIds) {
      const ids = await this.#w.connections.openConnections(u);
      if (ids.length) out.set(u, ids);
    }
    return out;
  }

  #copy(g: string, userId: string, messageId: string) {
    return this.copiesOf(g, userId).find((m) => m.messageId === messageId);
  }

  async reportContext(g: string, reporterId: string, messageIds: readonly string[]) {
    const meta = this.metas.get(g);
    return { meta: meta && copy(meta), member: this.#roster(g).has(reporterId), copies: messageIds.map((id) => this.#copy(g, reporterId, id)) };
  }
}

/** The group signals' load (typing, receipts): the members and whether the user holds its copy. */
export function fakeGroupSignals(w: World): GroupSignalsPort {
  return {
    load: async ({ conversationId, userId, messageId }) => ({
      members: (await w.groups.roster(conversationId)).members,
      hasCopy: messageId !== undefined && w.groups.copiesOf(conversationId, userId).some((m) => m.messageId === messageId),
    }),
    sockets: (userIds) => w.groups.sockets(userIds),
  };
}

// ---- system -----------------------------------------------------------------------------------------

export class FakeHealth implements HealthPort {
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  async probe(): Promise<void> {
    if (this.mode === 'fail') throw new Error('ResourceNotFoundException');
    if (this.mode === 'hang') await new Promise(() => undefined);
  }
}

// ---- the world -----------------------------------------------------------------------------------------

/** 2030-01-01T00:00:00.000Z: a whole second and a whole rate-limit window. */
export const START = Date.UTC(2030, 0, 1);

export interface FakeWorldOptions {
  /** Environment overrides for `loadConfig` (scrypt is always cheap unless given here). */
  env?: Record<string, string>;
  /** Start time of the manual clock, epoch ms. */
  now?: number;
}

export function fakeWorld(options: FakeWorldOptions = {}) {
  const clock = new ManualClock(options.now ?? START);
  const config: Config = loadConfig({ PASSWORD_SCRYPT_LOG2N: '10', ...options.env });
  const keys: AuthKeys = deriveKeys(TEST_SECRET);
  const signingKeys: SigningKeysPort = { current: async () => keys };
  const sessions = new FakeSessions(clock);
  const world = {
    clock,
    config,
    keys,
    signingKeys,
    users: new FakeUsers(clock),
    sessions,
    devices: new FakeDevices(clock, sessions),
    links: new FakeDeviceLinks(clock),
    challenges: new FakeChallenges(clock),
    limits: new FakeLimits(clock),
    tickets: new FakeTickets(clock),
    notifier: new FakeNotifier(),
    events: new FakeEvents(),
    metrics: new FakeMetrics(),
    publicKeys: new FakePublicKeys(),
    conversations: new FakeConversations(clock),
    connections: new FakeConnections(clock),
    presenceQueue: new FakePresenceQueue(),
    blocks: new FakeBlocks(clock),
    moderation: new FakeModeration(clock),
    health: new FakeHealth(),
  };
  return { ...world, groups: new FakeGroups(clock, world) };
}

export type World = ReturnType<typeof fakeWorld>;

// ---- deps objects, as the composition roots (functions/wiring/) assemble them ---------------------------

export const authDeps = (w: World): AuthDeps => ({ config: w.config, clock: w.clock, signingKeys: w.signingKeys, users: w.users, sessions: w.sessions });
/** Identity flows, with the device records sign-ins write (a superset of IdentityDeps). */
export const identityDeps = (w: World): SignInDeps => ({ ...authDeps(w), challenges: w.challenges, limits: w.limits, events: w.events, devices: w.devices });
export const deliveryDeps = (w: World): DeliveryDeps & SignInDeps => ({ ...identityDeps(w), notifier: w.notifier });
export const loginDeps = (w: World): LoginDeps => ({ ...deliveryDeps(w), metrics: w.metrics });
export const socketDeps = (w: World): SocketDeps & SignInDeps => ({ ...identityDeps(w), connections: w.connections });
// the purge of attachments is checked against DynamoDB Local (tests/attachments.test.ts)
export const deletionDeps = (w: World): DeletionDeps => ({
  ...socketDeps(w),
  publicKeys: w.publicKeys,
  devices: w.devices,
  attachments: { requestPurge: async () => {} },
});
export const deviceDeps = (w: World): DeviceDeps => ({ clock: w.clock, devices: w.devices, sessions: w.sessions });
export const revocationDeps = (w: World): RevocationDeps => ({ ...identityDeps(w), devices: w.devices, connections: w.connections });
export const linkRequestDeps = (w: World, linkTtlSeconds = 300): LinkRequestDeps => ({
  config: w.config,
  clock: w.clock,
  limits: w.limits,
  links: w.links,
  devices: { linkTtlSeconds },
});
export const approvalDeps = (w: World, maxPerUser = 10): ApprovalDeps => ({
  ...identityDeps(w),
  links: w.links,
  devices: w.devices,
  deviceConfig: { maxPerUser },
});
export const claimDeps = (w: World, maxPerUser = 10): ClaimDeps => ({
  ...identityDeps(w),
  links: w.links,
  connections: w.connections,
  deviceList: w.devices,
  deviceConfig: { maxPerUser },
});
export const conversationReadDeps = (w: World): ConversationReadDeps => ({ config: w.config, clock: w.clock, users: w.users, conversations: w.conversations });
export const openingDeps = (w: World): OpeningDeps => ({ ...conversationReadDeps(w), blocks: w.blocks, limits: w.limits });
export const conversationDeps = (w: World): ConversationDeps => ({ ...openingDeps(w), connections: w.connections, events: w.events });
export const sendDeps = (w: World): SendDeps => ({ ...conversationDeps(w), metrics: w.metrics, sendContext: fakeSendContext(w) });

/** The send's one-round read, assembled from the fakes (the adapter does it in one BatchGetItem). */
export function fakeSendContext(w: World): SendContextPort {
  return {
    async load({ senderId, recipientId, conversationId, sessionId }) {
      const [family, caller, recipient, senderMember, recipientMember, blocks, recipientSockets, senderSockets] = await Promise.all([
        sessionId ? w.sessions.get(sessionId) : undefined,
        w.users.get(senderId),
        w.users.get(recipientId),
        w.conversations.getMember(conversationId, senderId),
        w.conversations.getMember(conversationId, recipientId),
        w.blocks.blockPair(senderId, recipientId),
        w.connections.openConnections(recipientId),
        w.connections.openConnections(senderId),
      ]);
      // attachments are exercised against DynamoDB Local (tests/attachments.test.ts): the fakes hold none
      return { family, caller, recipient, senderMember, recipientMember, blocks, sockets: [recipientSockets, senderSockets], attachments: new Map() };
    },
  };
}
export const moderationDeps = (w: World): ModerationDeps => ({ config: w.config, clock: w.clock, users: w.users, moderation: w.moderation });
export const reportingDeps = (w: World): ReportingDeps => ({
  ...moderationDeps(w),
  blocks: w.blocks,
  conversations: w.conversations,
  groups: w.groups,
  limits: w.limits,
  metrics: w.metrics,
});
export const groupReadDeps = (w: World): GroupReadDeps => ({ config: w.config, clock: w.clock, users: w.users, groups: w.groups });
export const groupInviteDeps = (w: World): GroupInviteDeps => ({ ...groupReadDeps(w), blocks: w.blocks });
export const groupChangeDeps = (w: World): GroupChangeDeps => ({ ...groupReadDeps(w), connections: w.connections });
export const groupViewDeps = (w: World): GroupViewDeps => ({ ...groupReadDeps(w), keys: w.publicKeys });
export const groupSendDeps = (w: World): GroupSendDeps => ({
  config: w.config,
  clock: w.clock,
  connections: w.connections,
  events: w.events,
  metrics: w.metrics,
  groupSend: w.groups,
});
export const groupSignalDeps = (w: World): GroupSignalDeps => ({
  signals: fakeGroupSignals(w),
  blocks: w.blocks,
  conversations: w.conversations,
  connections: w.connections,
});
export const blockingDeps = (w: World): BlockingDeps => ({ users: w.users, blocks: w.blocks });
export const sanctionDeps = (w: World): SanctionDeps => ({ ...moderationDeps(w), sessions: w.sessions, connections: w.connections });
export const publishDeps = (w: World): PublishDeps => ({
  publicKeys: w.publicKeys,
  clock: w.clock,
  conversations: w.conversations,
  blocks: w.blocks,
  connections: w.connections,
  events: w.events,
});
export const presenceDeps = (w: World): PresenceDeps => ({
  users: w.users,
  sessions: w.sessions,
  clock: w.clock,
  conversations: w.conversations,
  blocks: w.blocks,
  connections: w.connections,
  socketSets: w.connections,
  presenceFanoutMax: w.config.realtime.presenceFanoutMax,
});
export const departureDeps = (w: World): DepartureDeps => ({
  clock: w.clock,
  connections: w.connections,
  socketSets: w.connections,
  presenceQueue: w.presenceQueue,
  offlineGraceSeconds: w.config.realtime.presenceOfflineGraceSeconds,
});
export const offlineWorkerDeps = (w: World): OfflineWorkerDeps => ({
  users: w.users,
  conversations: w.conversations,
  blocks: w.blocks,
  connections: w.connections,
  socketSets: w.connections,
  presenceFanoutMax: w.config.realtime.presenceFanoutMax,
});
export const authorizerDeps = (w: World): AuthorizerDeps => ({ tickets: w.tickets, users: w.users, sessions: w.sessions, clock: w.clock });
export const ticketDeps = (w: World) => ({ tickets: w.tickets, config: w.config });
export const healthDeps = (w: World) => ({ health: w.health, config: w.config, clock: w.clock });

// ---- seeding ------------------------------------------------------------------------------------------

let seeded = 0;

/** Stores a user directly (no registration flow); a password is hashed with the world's cheap scrypt. */
export async function addUser(w: World, fields: Partial<Omit<UserRecord, 'passwordHash'>> & { password?: string } = {}): Promise<UserRecord> {
  const n = ++seeded;
  const at = iso(w.clock.now());
  const { password, ...rest } = fields;
  const user: UserRecord = {
    userId: randomUUID(),
    displayName: `User ${n}`,
    email: `user${n}@example.test`,
    role: 'user',
    status: 'active',
    tokensValidAfter: 0,
    createdAt: at,
    updatedAt: at,
    ...rest,
    ...(password !== undefined ? { passwordHash: await hashPassword(password, w.config.password) } : {}),
  };
  await w.users.create(user);
  return user;
}

/**
 * A signed-in session without the login flow: a live refresh family and an access token of it,
 * as startSession would create them (for use cases that take an AuthContext).
 */
export async function signIn(w: World, userId: string): Promise<AuthContext & { accessToken: string }> {
  const user = await w.users.get(userId);
  if (!user) throw new Error(`no user ${userId}`);
  const now = w.clock.now();
  const familyId = randomUUID();
  await w.sessions.create({
    familyId,
    userId,
    currentDigest: randomBytes(16).toString('base64url'),
    generation: 1,
    createdAt: now,
    expiresAt: Math.floor(now / 1000) + w.config.tokens.refreshTtlSeconds,
  });
  const access = await issueAccessToken(w.keys, w.config.tokens, { sub: userId, sid: familyId, role: user.role }, now);
  return { userId, sessionId: familyId, role: user.role, user, accessToken: access.token };
}

// ---- assertions ---------------------------------------------------------------------------------------

/** Awaits a rejection with this DomainError status and code (what the error middleware would answer). */
export async function rejectsWith(promise: Promise<unknown>, status: number, code: string): Promise<DomainError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof DomainError, `expected a DomainError ${status} ${code}, got ${String(caught)}`);
  assert.deepEqual({ status: caught.status, code: caught.code }, { status, code }, caught.message);
  return caught;
}

/** A well-formed sealed message body (the server never opens it; only sizes are checked). */
export const message = (clientMessageId: string) => ({
  clientMessageId,
  ciphertext: Buffer.alloc(32, 1).toString('base64'),
  nonce: Buffer.alloc(24, 2).toString('base64'),
  senderKeyVersion: 1,
  recipientKeyVersion: 1,
});
