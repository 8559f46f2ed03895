// The ports: what use cases need from the world, one interface per aggregate, plus the Clock.
// Adapters implement them over DynamoDB, the @connections API, Secrets Manager, SES/SNS or the dev
// outbox; tests implement them in memory (tests/support/fakes.ts). Use cases receive them in one
// deps object built by the area's composition root (functions/wiring/), never create them.
import type { AccountStatus, Role } from '#contract/common.ts';
import type { OtpChannel, OtpPurpose } from '#contract/auth/schemas.ts';
import type { AuditEntry, Report } from '#contract/admin/schemas.ts';
import type { ReportStatus } from '#contract/moderation/schemas.ts';
import type { PublicKeySet } from '#contract/public-keys/schemas.ts';
import type { GroupEvent, Message } from '#contract/conversations/schemas.ts';
import type { GroupRole } from '#contract/groups/schemas.ts';
import type { CloseNotice } from '#contract/realtime/close-codes.ts';
import type { PushFrame } from '#contract/realtime/frames.ts';
import type { AttachmentStatus } from '#contract/attachments/schemas.ts';
import type { RatePolicy } from './config.ts';
import type { AuthKeys } from './signing-keys.ts';

/** Time, injected: use cases and adapters never call Date.now() themselves, so tests move it. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

/** A page of results and the opaque cursor of the next one (absent on the last page). */
export interface Page<T> {
  items: T[];
  cursor?: string | undefined;
}

// ---- users ---------------------------------------------------------------------------------------

export interface UserRecord {
  userId: string;
  displayName: string;
  email?: string;
  phone?: string;
  passwordHash?: string;
  role: Role;
  status: AccountStatus;
  suspendedUntil?: number;
  /** Epoch ms: tokens and session families older than this are dead (logout-all, bans, deletion). */
  tokensValidAfter: number;
  /**
   * Random, replaced in the same write as every password change, reset and logout-all. A session
   * family records the epoch of the user record its sign-in read; one from another epoch is dead,
   * however late it was written (authn.ts familyAlive). Absent until the first such change.
   */
  sessionEpoch?: string;
  /** The one family a password change kept alive (the caller's), although it began in an earlier epoch. */
  keptSession?: string;
  /** When the user's last WebSocket connection closed. */
  lastSeenAt?: string;
  /** Set by auto-restriction (many distinct reporters): no new conversations until a moderator reviews. */
  restrictedAt?: string;
  /** Opt-in: others find the user by exact email or phone only when true (absent: not discoverable). */
  discoverable?: boolean;
  createdAt: string;
  updatedAt: string;
}

export type UserChanges = Partial<
  Pick<
    UserRecord,
    | 'displayName'
    | 'passwordHash'
    | 'tokensValidAfter'
    | 'sessionEpoch'
    | 'keptSession'
    | 'status'
    | 'suspendedUntil'
    | 'role'
    | 'lastSeenAt'
    | 'restrictedAt'
    | 'discoverable'
  >
>;

export interface UsersPort {
  create(user: UserRecord): Promise<void>;
  get(userId: string): Promise<UserRecord | undefined>;
  findIdByIdentifier(kind: 'email' | 'phone', value: string): Promise<string | undefined>;
  /** `unlessStatus`: refuse (409 already_<status>) when the account has that status at write time. */
  update(userId: string, changes: UserChanges, opts?: { unlessStatus?: AccountStatus }): Promise<UserRecord>;
  delete(user: UserRecord): Promise<void>;
  /** Public fields of users whose display name starts with `prefix` (at least two characters). */
  searchByName(prefix: string, limit: number): Promise<{ userId: string; displayName: string }[]>;
  /** Display names of several users at once (missing users are simply absent). */
  displayNames(userIds: readonly string[]): Promise<Map<string, string>>;
  /** Roles of several users at once (missing users are simply absent). */
  rolesOf(userIds: readonly string[]): Promise<Map<string, Role>>;
}

// ---- sessions (refresh-token families) -----------------------------------------------------------

export interface FamilyRecord {
  familyId: string;
  userId: string;
  currentDigest: string;
  generation: number;
  /** Epoch ms. */
  createdAt: number;
  /** The user's sessionEpoch when the sign-in read the user (absent: none yet). */
  epoch?: string;
  /** Epoch seconds: the absolute end of the family (and DynamoDB TTL). */
  expiresAt: number;
  revokedAt?: number;
  revokeReason?: string;
  /** Epoch ms of the last rotation (refresh): the device's lastSeenAt, at no extra write. */
  lastUsedAt?: number;
  /** The device this session belongs to (absent on families from before devices). */
  deviceId?: string;
}

export interface SessionsPort {
  create(family: FamilyRecord): Promise<void>;
  get(familyId: string): Promise<FamilyRecord | undefined>;
  /** Atomically swaps the current token digest; false when `presented` is not current (reuse or race). */
  rotate(familyId: string, presented: string, next: string): Promise<boolean>;
  revoke(familyId: string, reason: string): Promise<void>;
  revokeAllForUser(userId: string, reason: string, exceptFamilyId?: string): Promise<number>;
}

// ---- devices (sessions table) and device links (ephemeral table) -----------------------------------

/** A signed-in device: one per sign-in (register, login, a claimed link), holding that session. */
export interface DeviceRecord {
  deviceId: string;
  userId: string;
  name: string;
  /** ISO time. */
  createdAt: string;
  /** The device's session (refresh family): alive while the device is signed in. */
  familyId: string;
  /** Epoch seconds: the family's absolute end, when TTL removes the record. */
  expiresAt: number;
}

export interface DevicesPort {
  create(device: DeviceRecord): Promise<void>;
  /** The user's device records (strongly consistent), live sessions or not. */
  list(userId: string): Promise<DeviceRecord[]>;
  get(userId: string, deviceId: string): Promise<DeviceRecord | undefined>;
  /** Renames an existing record; undefined when there is none. */
  rename(userId: string, deviceId: string, name: string): Promise<DeviceRecord | undefined>;
  delete(userId: string, deviceId: string): Promise<void>;
  /** Every device record of the user (account deletion). */
  deleteAll(userId: string): Promise<void>;
  /** The session families behind devices, in one batch read (missing ones are absent). */
  families(familyIds: readonly string[]): Promise<FamilyRecord[]>;
}

/** What the approving device relayed: the account's keys boxed to the new device, and who approved. */
export interface LinkApproval {
  userId: string;
  /** The approving device's session: its sockets hear no deviceLinked frame, and it must still be alive at claim. */
  sessionId: string;
  ciphertext: string;
  nonce: string;
  /** The approver's ephemeral X25519 public key (the box's sender). */
  publicKey: string;
  /** Epoch ms. */
  approvedAt: number;
}

export interface DeviceLinkRecord {
  linkId: string;
  /** SHA-256 (base64url) of the link secret; the secret itself is never stored. */
  secretDigest: string;
  /** The new device's ephemeral X25519 public key. */
  publicKey: string;
  deviceName: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms: checked on every read and write (TTL is a backstop). */
  linkExpiresAt: number;
  approval?: LinkApproval;
}

export interface DeviceLinksPort {
  create(link: DeviceLinkRecord): Promise<void>;
  /** The link if it exists and has not expired (strongly consistent). */
  get(linkId: string): Promise<DeviceLinkRecord | undefined>;
  /** Records the approval unless the link is gone, expired or already approved (one conditional write). */
  approve(linkId: string, approval: LinkApproval): Promise<boolean>;
  /**
   * Deletes the link if it is approved, unexpired and holds this secret digest, returning it: one
   * conditional delete, so of concurrent claims exactly one gets it.
   */
  claim(linkId: string, secretDigest: string): Promise<DeviceLinkRecord | undefined>;
}

// ---- short-lived things: OTP challenges, rate-limit counters, WebSocket tickets --------------------

export interface ChallengeRecord {
  digest: string;
  attempts: number;
  expiresAt: number;
  resendAt: number;
  usedAt?: number;
}

export interface ChallengeKey {
  purpose: OtpPurpose;
  channel: OtpChannel;
  destinationKey: string;
}

export interface ChallengesPort {
  /** Replaces any previous challenge unless its resend cooldown is still running (returns its end, epoch ms). */
  put(key: ChallengeKey, digest: string, expiresAt: number, resendAt: number): Promise<{ ok: true } | { ok: false; resendAt: number }>;
  /** Counts one attempt; undefined when the challenge is missing, used, expired or out of attempts. */
  attempt(key: ChallengeKey, maxAttempts: number): Promise<ChallengeRecord | undefined>;
  /** Single use: true for exactly one caller. */
  markUsed(key: ChallengeKey): Promise<boolean>;
}

/**
 * Sub-windows per rate-limit window. A hit at time t falls in sub-window j = floor(t / (W / k)) and
 * sees the hits accepted in sub-windows j-k..j (a span between W and W + W/k long), so no interval
 * of length W ever holds more than the limit; capacity comes back at most W/k later than an exact
 * sliding log would give it back. Why this algorithm: functions/adapters/dynamodb/ephemeral-table.ts.
 */
export const LIMIT_SUBWINDOWS = 10;

export interface LimitsPort {
  /**
   * Counts one hit of `name` for `key` unless the hits accepted in its sliding window (see
   * LIMIT_SUBWINDOWS) already reach the policy's limit; exact under concurrency. A refusal says
   * when the next hit would be accepted (epoch ms) if no other hit comes first.
   */
  hit(name: string, key: string, policy: RatePolicy): Promise<{ allowed: true } | { allowed: false; retryAt: number }>;
}

export interface TicketsPort {
  /** A fresh single-use ticket for this user and session. */
  create(userId: string, sessionId: string, ttlSeconds: number): Promise<string>;
  /** The ticket's user and session, or undefined when it is unknown, used or expired. */
  consume(ticket: string): Promise<{ userId: string; sessionId: string } | undefined>;
}

// ---- secrets, delivery, events -------------------------------------------------------------------------

/** The token-signing and OTP-pepper keys, derived from the auth secret (cached by the adapter). */
export interface SigningKeysPort {
  current(): Promise<AuthKeys>;
}

export interface OtpMessage {
  /**
   * False when the code must go nowhere (no account, or the wrong kind of account, for the purpose):
   * queued all the same, so known and unknown identifiers cost the request the same; the worker
   * drops it. Such a message carries a placeholder of the address's length and no real code.
   */
  deliver: boolean;
  channel: OtpChannel;
  destination: string;
  purpose: OtpPurpose;
  code: string;
  expiresAt: number;
}

export interface NotifierPort {
  sendOtp(message: OtpMessage): Promise<void>;
}

/** A user's last socket closed: the offline to announce after the grace, unless they came back (contract/internal/presence-message.ts). */
export interface OfflineNotice {
  userId: string;
  /** The socket set's epoch when the last socket closed; any later join changes it. */
  epoch: number;
  /** When the last socket closed (ISO): partners' lastSeen. */
  lastSeen: string;
}

/** The presence queue: delivers a notice to the offline worker after `delaySeconds`. */
export interface PresenceQueuePort {
  offlineLater(notice: OfflineNotice, delaySeconds: number): Promise<void>;
}

/** Security events (reuse detected, password changed, ...) for the audit trail; never given secrets. */
export interface SecurityEventsPort {
  record(name: string, data: Record<string, unknown>): void;
}

// ---- business metrics ----------------------------------------------------------------------------

/** The business events operators count (docs/operations.md), each counted where it has happened. */
export type BusinessMetric = 'MessagesSent' | 'OtpsSent' | 'LoginFailures' | 'ReportsFiled';

/**
 * Counts business events for the invocation; they leave once, at its end (functions/middleware/
 * metrics.ts), as CloudWatch EMF log lines in AWS. Dimensions are fixed words, never request data.
 */
export interface MetricsPort {
  count(name: 'MessagesSent' | 'LoginFailures' | 'ReportsFiled'): void;
  count(name: 'OtpsSent', dimensions: { channel: OtpChannel }): void;
}

// ---- public keys -------------------------------------------------------------------------------------

export type KeyRecord = PublicKeySet;

export interface PublicKeysPort {
  /** Strongly consistent: after a keyChanged event a client must not fetch the previous keys. */
  getCurrent(userId: string): Promise<KeyRecord | undefined>;
  /** Writes `key` as current and into history; false when the current version is no longer `previousVersion`. */
  put(key: KeyRecord, previousVersion: number | undefined, identityChanged: boolean): Promise<boolean>;
  deleteAll(userId: string): Promise<void>;
}

// ---- conversations and messages ------------------------------------------------------------------------

export interface MessageRecord extends Message {
  /** Set when the recipient blocks the sender: stored for the sender only, never shown to them. */
  hiddenFrom?: string;
}

export interface MemberView {
  conversationId: string;
  userId: string;
  /** Direct conversations: the other member. Group inbox entries have none (kind 'group'). */
  peerId: string;
  /** Set on a group's inbox entry (CONV#g / ENTRY#u); absent on direct conversations' member items. */
  kind?: 'group';
  createdAt: string;
  lastMessageId?: string;
  lastMessageAt?: string;
  lastSenderId?: string;
  /** Set on a member's first message: only conversations a user took part in reveal their presence and key changes. */
  engagedAt?: string;
  readUpTo?: string;
  deliveredUpTo?: string;
}

/**
 * Everything a 1:1 send must know before it writes, read in one round trip (one BatchGetItem over the
 * sessions, users, messages, moderation and connections tables).
 */
export interface SendContext {
  /** The session family, when the send names one (a WebSocket frame's; HTTP checked its token already). */
  family?: FamilyRecord | undefined;
  caller?: UserRecord | undefined;
  recipient?: UserRecord | undefined;
  senderMember?: MemberView | undefined;
  recipientMember?: MemberView | undefined;
  /** [the sender blocks the recipient, the recipient blocks the sender] */
  blocks: [boolean, boolean];
  /** The open connection ids of [the recipient, the sender] (the per-user socket sets). */
  sockets: [string[], string[]];
  /** The records of the attachments the message names, by id (absent ones are not there). */
  attachments: Map<string, AttachmentRecord>;
}

export interface SendContextPort {
  load(query: {
    senderId: string;
    recipientId: string;
    conversationId: string;
    sessionId?: string | undefined;
    attachmentIds?: readonly string[] | undefined;
  }): Promise<SendContext>;
}

/** What the store needs to write one message (the sender is the caller, never client input). */
export interface SendRequest {
  conversationId: string;
  senderId: string;
  recipientId: string;
  clientMessageId: string;
  ciphertext: string;
  nonce: string;
  senderKeyVersion: number;
  recipientKeyVersion: number;
  retentionSeconds: number;
  /** The recipient blocks the sender: store for the sender's side only. */
  hiddenFrom?: string | undefined;
  /**
   * The member items as the send read them (the sender's always exists by now): the send rewrites both
   * with the new last message, carrying their other fields, in the same BatchWriteItem as the message.
   */
  members: { sender: MemberView; recipient?: MemberView | undefined };
  /** The attachments the message shares, as the send read and checked them (core/attachment-rules.ts). */
  attachments?: readonly AttachmentRecord[] | undefined;
}

export interface StoredSend {
  message: MessageRecord;
  /**
   * True when this clientMessageId was stored before (or a concurrent copy stored it): nothing new was
   * stored, except what a crashed first attempt had left unwritten, completed without re-delivering.
   */
  duplicate: boolean;
}

/** A page of the user's delivery queue and the opaque cursor to pass next time. */
export interface SyncPage {
  messages: Message[];
  cursor: string;
  hasMore: boolean;
}

/** The messages table as sends, opening and receipts use it: no listing reads (those are MessageQueriesPort). */
export interface MessageStorePort {
  /** Creates the conversation once, and the member items of `members` (an opener's side only, see core). */
  ensureConversation(conversationId: string, a: string, b: string, members?: readonly string[]): Promise<{ created: boolean; createdAt: string }>;
  getMember(conversationId: string, userId: string): Promise<MemberView | undefined>;
  getMessage(conversationId: string, messageId: string): Promise<MessageRecord | undefined>;
  /**
   * `onRecorded`: called once this copy holds the idempotency record (the message's id and content
   * fixed), before the message, queue entry and inbox entries are written; never for a duplicate.
   */
  storeMessage(req: SendRequest, onRecorded?: (message: MessageRecord) => void): Promise<StoredSend>;
  /** Moves a read or delivered position forward only (its own item, apart from the member item); false when it would not move. */
  advancePosition(conversationId: string, userId: string, field: 'readUpTo' | 'deliveredUpTo', messageId: string): Promise<boolean>;
}

/**
 * Who hears about a user (presence, key changes): its own port and adapter (partners-index.ts), so the
 * routes that send or read messages do not bundle it.
 */
export interface PartnersPort {
  /**
   * Everyone the user has taken part in a conversation with, latest conversation activity first;
   * with `groups`, also the current co-members of that many of the user's latest groups; only the
   * first `limit` of them when given.
   */
  partnersOf(userId: string, limit?: number, groups?: number): Promise<string[]>;
}

/** The messages table's listing reads: history, the delivery queue, the inbox, unread counts. */
export interface MessageQueriesPort {
  /** History as the viewer sees it, newest first; `before` is exclusive. */
  history(conversationId: string, viewerId: string, before: string | undefined, limit: number): Promise<{ messages: Message[]; before?: string }>;
  /** What was delivered to the user after the cursor (absent: from the start), oldest first, each message once. */
  syncStream(userId: string, after: string | undefined, limit: number): Promise<SyncPage>;
  /** A page of the user's inbox, latest activity first (the cursor is checked against the user's own partition). */
  inbox(userId: string, limit: number, cursor?: string): Promise<Page<MemberView>>;
  /** Messages from the peer after the read position, counted up to `cap`. */
  countUnread(conversationId: string, userId: string, readUpTo: string | undefined, cap?: number): Promise<number>;
  /** The user's read positions in these conversations (one BatchGetItem per 100). */
  readPositions(conversationIds: readonly string[], userId: string): Promise<Map<string, string>>;
}

export interface ConversationsPort extends MessageStorePort, MessageQueriesPort {}

// ---- groups ------------------------------------------------------------------------------------------

export interface GroupMeta {
  conversationId: string;
  name: string;
  createdAt: string;
  createdBy: string;
  memberCount: number;
  adminCount: number;
}

export interface GroupMemberRecord {
  conversationId: string;
  userId: string;
  role: GroupRole;
  joinedAt: string;
  invitedBy?: string;
}

export interface GroupInvitationRecord {
  conversationId: string;
  userId: string;
  inviterId: string;
  /** The group's name when the invitation was made (shown in the invitee's list). */
  name: string;
  createdAt: string;
}

/** What a membership change expects META to hold still (optimistic: a concurrent change makes it fail and retry). */
export interface RosterVersion {
  memberCount: number;
  adminCount: number;
}

/** Membership and invitations (messages table, CONV#<gid>); every change that must stay together is one transaction. */
export interface GroupsPort {
  /** META, the creator's MEMBER item and the creator's group count (below `maxPerUser`), together; false when the count is full. */
  create(meta: GroupMeta, creator: GroupMemberRecord, maxPerUser: number): Promise<boolean>;
  getMember(conversationId: string, userId: string): Promise<GroupMemberRecord | undefined>;
  /** META and every member, strongly consistent (one Query). */
  roster(conversationId: string): Promise<{ meta?: GroupMeta | undefined; members: GroupMemberRecord[] }>;
  /** Writes (or renews) invitations. */
  invite(invitations: readonly GroupInvitationRecord[]): Promise<void>;
  getInvitation(conversationId: string, userId: string): Promise<GroupInvitationRecord | undefined>;
  /** False when there was none. */
  deleteInvitation(conversationId: string, userId: string): Promise<boolean>;
  invitationsOf(userId: string, limit: number, cursor?: string): Promise<Page<GroupInvitationRecord>>;
  /**
   * Joins by an invitation, in one transaction: the MEMBER item, the invitation deleted, META's member
   * count below `maxMembers`, the user's group count below `maxPerUser`.
   */
  accept(
    invitation: GroupInvitationRecord,
    joinedAt: string,
    limits: { maxMembers: number; maxPerUser: number },
  ): Promise<'joined' | 'gone' | 'group_full' | 'too_many_groups'>;
  /**
   * Removes a member (left or removed) and, when given, makes `promote` an admin, in one transaction
   * conditioned on META still holding `seen`; false when it changed (the caller re-reads and retries).
   */
  removeMember(conversationId: string, userId: string, seen: RosterVersion, removedRole: GroupRole, promote?: string): Promise<boolean>;
  /** Sets a member's role, conditioned like removeMember. */
  setRole(conversationId: string, userId: string, role: GroupRole, seen: RosterVersion, previous: GroupRole): Promise<boolean>;
  /** False when the group does not exist. */
  rename(conversationId: string, name: string): Promise<boolean>;
  /** A system entry ("A removed B") in the history of each of `viewers`. */
  appendEvent(
    conversationId: string,
    viewers: readonly string[],
    actorId: string,
    event: { type: GroupEvent; userId?: string; role?: string; name?: string },
  ): Promise<void>;
}

/** Round 1 of a group send: the session, the caller, the group's META and members, and who blocks the sender. */
export interface GroupSendContext {
  family?: FamilyRecord | undefined;
  caller?: UserRecord | undefined;
  meta?: GroupMeta | undefined;
  members: GroupMemberRecord[];
  /** Users who block the sender. */
  blockers: Set<string>;
  /** The records of the attachments the message names, by id. */
  attachments: Map<string, AttachmentRecord>;
}

export interface GroupSendRequest {
  conversationId: string;
  senderId: string;
  clientMessageId: string;
  ciphertext: string;
  nonce: string;
  senderKeyVersion: number;
  /** The members who get a copy (the sender included), each with its own wrapped key and join time. */
  copies: { userId: string; joinedAt: string; key: { wrappedKey: string; nonce: string; keyVersion: number } }[];
  retentionSeconds: number;
  /** The attachments the message shares, as the send read and checked them. */
  attachments?: readonly AttachmentRecord[] | undefined;
}

export interface GroupSendPort {
  /** Round 1: four reads in parallel (one Query of META and members, one BatchGetItem, one Query of blockers). */
  load(query: {
    senderId: string;
    conversationId: string;
    sessionId?: string | undefined;
    attachmentIds?: readonly string[] | undefined;
  }): Promise<GroupSendContext>;
  /** Round 2: the users' current key versions and socket sets, BatchGetItems of at most 100 keys, in parallel. */
  recipients(userIds: readonly string[]): Promise<{ keyVersions: Map<string, number>; sockets: Map<string, string[]> }>;
  /**
   * Rounds 3 and 4: the idempotency record (conditional PutItem), then BatchWriteItems in parallel: per
   * copy a history item, a queue entry (not the sender's) and the inbox entry. The message returned is
   * the sender's copy.
   */
  store(req: GroupSendRequest): Promise<{ message: MessageRecord; copies: MessageRecord[]; duplicate: boolean }>;
}

/**
 * Typing and receipts in a group (apart from the 1:1 paths, which bundle none of it): one round of reads
 * whatever the group's size, then the members' socket sets.
 */
export interface GroupSignalsPort {
  /**
   * In parallel: the members (one strongly consistent Query) and, when `messageId` is given, whether the
   * user holds its own unexpired copy of it (one GetItem).
   */
  load(query: { conversationId: string; userId: string; messageId?: string | undefined }): Promise<{ members: GroupMemberRecord[]; hasCopy: boolean }>;
  /** The users' open connection ids (their socket sets: BatchGetItems of 100 keys, in parallel, eventually consistent). */
  sockets(userIds: readonly string[]): Promise<Map<string, string[]>>;
}

/** What a report about a group needs: the group, the reporter's membership and the reporter's own copies of the cited messages. */
export interface GroupReportsPort {
  /** One BatchGetItem: META, the reporter's MEMBER item and its VIEW copies of `messageIds`. */
  reportContext(
    conversationId: string,
    reporterId: string,
    messageIds: readonly string[],
  ): Promise<{ meta?: GroupMeta | undefined; member: boolean; copies: (MessageRecord | undefined)[] }>;
}

/** The reads of groups for history and the inbox. */
export interface GroupQueriesPort {
  /** The caller's own copies, newest first; undefined when the caller is not a member. */
  history(conversationId: string, viewerId: string, before: string | undefined, limit: number): Promise<{ messages: Message[]; before?: string } | undefined>;
  /** Name and member count of the groups the user is still a member of (one BatchGetItem per 50). */
  summaries(conversationIds: readonly string[], userId: string): Promise<Map<string, { name: string; memberCount: number }>>;
  /** Copies from others after the read position, counted up to `cap`. */
  countUnread(conversationId: string, userId: string, readUpTo: string | undefined, cap?: number): Promise<number>;
}

// ---- realtime connections --------------------------------------------------------------------------

export interface ConnectionRow {
  connectionId: string;
  connectedAt: string;
  userId?: string;
  /** The session (refresh family) whose ticket opened the connection. */
  sessionId?: string;
}

/**
 * A user's socket set (USER#u / SOCKETS) as presence sees it: the open connection ids, `epoch` (bumped
 * by every join, so a queued offline can tell that the user came back) and `online`, the status last
 * announced to partners.
 */
export interface SocketSet {
  ids: string[];
  epoch: number;
  online: boolean;
}

export interface ConnectionsPort {
  /** Writes the connection's own row (CONN#id, on the byUser index); the socket set is SocketSetsPort.join's. */
  save(row: ConnectionRow): Promise<void>;
  remove(connectionId: string): Promise<void>;
  /** The signed-in user of a connection as written at $connect (undefined when unknown or expired). */
  ownerOf(connectionId: string): Promise<{ userId: string; sessionId?: string } | undefined>;
  /** Ids of the user's open connections (a Query on the byUser index, never a Scan). */
  openConnections(userId: string): Promise<string[]>;
  /** Sends one frame to one connection; false when it is gone. */
  send(connectionId: string, frame: unknown): Promise<boolean>;
  /** Pushes a frame to these connections (from openConnections); gone ones are forgotten (awaited). */
  pushTo(connectionIds: readonly string[], frame: PushFrame): Promise<{ delivered: number; gone: number }>;
  /** Pushes a frame to every open connection of the users, except one; gone ones are forgotten (awaited). */
  push(userIds: readonly string[], frame: PushFrame, exceptConnectionId?: string): Promise<{ delivered: number; gone: number }>;
  /** Ends one connection: its row first (no more pushes), then the socket. */
  end(connectionId: string): Promise<void>;
  /**
   * Ends a user's sockets: all, only one session's, or all but one session's. The `notice` (an error
   * frame: why, and the close code that goes with it) is sent to each first: API Gateway's
   * @connections DELETE takes no close code (the local gateway closes with the notice's).
   */
  endForUser(userId: string, filter: { onlySession?: string; exceptSession?: string; notice: CloseNotice }): Promise<number>;
}

/** Presence state on the user's socket set: $connect, $disconnect and the presence worker only. */
export interface SocketSetsPort {
  /**
   * Adds the connection to its user's socket set, bumps `epoch` and sets `online`, in one atomic
   * update; true when `online` was not set before, i.e. this join is the one that owes partners "online".
   */
  join(userId: string, connectionId: string): Promise<{ cameOnline: boolean }>;
  /** Forgets a connection (its row and its id in the user's set) and answers the set as it is after. */
  leave(userId: string, connectionId: string): Promise<SocketSet>;
  /**
   * Asks @connections about each id of the set (GetConnection) and forgets those that are gone and
   * not merely still in their $connect; answers the set after (unchanged when none was pruned).
   */
  pruneGone(userId: string, set: SocketSet): Promise<SocketSet>;
  /** Sets `online` false only if it is true, `epoch` is still this one and no socket is open; true when it did. */
  claimOffline(userId: string, epoch: number): Promise<boolean>;
}

// ---- moderation -------------------------------------------------------------------------------------

export interface ReportRecord extends Report {
  /** Same reporter, target and messages: at most one open report (released when resolved). */
  dedupeKey?: string;
}

export type { AuditEntry };

/** The audit log's head: the newest entry's id, place in the chain (1, 2, ...) and hash. */
export interface AuditHead {
  auditId: string;
  seq: number;
  hash: string;
}

/** Who blocks whom: checked on every delivery path. */
export interface BlocksPort {
  /** Idempotent: blocking again returns the first block's time. */
  block(blocker: string, blocked: string): Promise<{ blockedAt: string }>;
  unblock(blocker: string, blocked: string): Promise<void>;
  /** [does a block b, does b block a] */
  blockPair(a: string, b: string): Promise<[boolean, boolean]>;
  /** Everyone the user blocks or is blocked by. */
  blockRelations(userId: string): Promise<Set<string>>;
  listBlocked(blocker: string, limit: number, cursor?: string): Promise<Page<{ userId: string; blockedAt: string }>>;
  /** Everyone who blocks the user (one Query of the BLOCKEDBY# mirror items). */
  blockersOf(userId: string): Promise<Set<string>>;
}

/** Reports, the moderation queue and the append-only audit log. */
/** The report lifecycle and the audit appends. */
export interface ReportsPort {
  /**
   * Writes the report unless an unresolved one holds the same dedupe key; then returns that one's id.
   * `counts`: the report counts toward auto-restriction; only then is the reporter's REPORTER# item
   * (re)written with its time, which distinctReporters counts.
   */
  putReport(report: ReportRecord & { dedupeKey: string }, counts: boolean): Promise<{ created: true } | { created: false; existingId: string }>;
  getReport(reportId: string): Promise<ReportRecord | undefined>;
  /**
   * Writes `{ ...report, ...changes }` if the stored status is one of `from`, else undefined. Resolving
   * releases the dedupe key if this report holds it (another unresolved report may hold it instead).
   */
  updateReport(report: ReportRecord, from: ReportStatus[], changes: Partial<ReportRecord> & { status: ReportStatus }): Promise<ReportRecord | undefined>;
  /**
   * Undoes a resolving claim whose decision was not carried out: writes `previous` back whole (so no
   * decision field of the claim survives) and takes its dedupe key again, in one step, conditional on
   * the report still being exactly as `claimed` left it. False if it is not: someone acted since.
   */
  reopenReport(claimed: ReportRecord, previous: ReportRecord): Promise<boolean>;
  /** Distinct reporters of the target whose last report that counts (see putReport) is at or after `sinceIso`: one Query. */
  distinctReporters(targetUserId: string, sinceIso: string): Promise<number>;
  /**
   * Append-only, hash-chained (core/audit-chain.ts): the entry's id, time, place and hashes are
   * assigned at write time, and the entry and the head are written together, conditioned on the head
   * the writer read, so concurrent appends form one chain. A race lost too often is a 503.
   */
  appendAudit(entry: Omit<AuditEntry, 'auditId' | 'at'>): Promise<AuditEntry>;
}

/** The reads behind the moderation queue, the report lists and the audit listing. */
export interface ReportQueriesPort {
  /** A user's reports, newest first: those they filed (`filed`) or those about them (`about`). */
  reportsOf(userId: string, which: 'filed' | 'about', limit: number, cursor?: string): Promise<Page<ReportRecord>>;
  /** The queue of one status, oldest first, optionally of one reason. */
  reportQueue(status: ReportStatus, reason: string | undefined, limit: number, cursor?: string): Promise<Page<ReportRecord>>;
  /** Newest first, without the chain fields. */
  listAudit(limit: number, cursor?: string): Promise<Page<AuditEntry>>;
}

/** Reports, the queue and the append-only audit log. */
export type ModerationPort = ReportsPort & ReportQueriesPort;

/**
 * The audit log as stored, for the operator's check and export (bin/admin.ts; no route reads it):
 * unchecked, since tampering is what its reader looks for.
 */
export interface AuditChainPort {
  /** The head item's attributes (consistent read), if there is one. */
  auditHead(): Promise<Record<string, unknown> | undefined>;
  /** Every stored entry, oldest first (sort key order): its sort key and its other attributes. */
  auditEntries(): AsyncIterable<{ key: string; item: Record<string, unknown> }>;
}

// ---- system -----------------------------------------------------------------------------------------

export interface HealthPort {
  /** Resolves when the data store answers. */
  probe(): Promise<void>;
}

// ---- attachments (attachments table; blobs in object storage) ----

/** An upload: `pending` until its owner completes it, `uploaded` once stored, `shared` once a message named it. */
export interface AttachmentRecord {
  attachmentId: string;
  ownerId: string;
  /** The conversation it was uploaded for: the only one a message may share it in. */
  conversationId: string;
  size: number;
  status: AttachmentStatus;
  createdAt: string;
  /** Epoch seconds: 24 hours after the upload began until shared, then the message retention. */
  expiresAt: number;
  /** Messages that shared it (counted by the sends, which may race: a bound, not an exact count). */
  shares?: number | undefined;
}

/** A message that shared an attachment (whoever may see that message may fetch the attachment). */
export interface AttachmentShare {
  conversationId: string;
  messageId: string;
}

export interface AttachmentsPort {
  /** The caller's member item of a conversation exists (direct or group). */
  isMember(conversationId: string, userId: string): Promise<boolean>;
  /**
   * Adds `bytes` to the user's uploads of `day` (UTC, YYYY-MM-DD) unless that would pass `quota`;
   * false when it would (nothing is counted then).
   */
  chargeQuota(userId: string, day: string, bytes: number, quota: number): Promise<boolean>;
  create(record: AttachmentRecord): Promise<void>;
  get(attachmentId: string): Promise<AttachmentRecord | undefined>;
  /** pending -> uploaded, only for its owner; the record as it now is (undefined: not this owner's, or gone). */
  markUploaded(attachmentId: string, ownerId: string): Promise<AttachmentRecord | undefined>;
  /** The record and the messages that shared it, in one Query. */
  withShares(attachmentId: string): Promise<{ record: AttachmentRecord | undefined; shares: AttachmentShare[] }>;
  /**
   * Whether `userId` can see one of these messages now, as history would show it (a direct message
   * addressed to or sent by the user and not hidden from them; a group copy of a current member), and
   * whether the owner's account still exists. One BatchGetItem.
   */
  canSee(userId: string, ownerId: string, shares: readonly AttachmentShare[]): Promise<boolean>;
  /** Asks the sweeper to delete every attachment of a deleted account (one marker item). */
  requestPurge(userId: string): Promise<void>;
  /** Never-shared uploads begun in this UTC hour (YYYY-MM-DDTHH). */
  pendingInHour(hour: string): Promise<AttachmentRecord[]>;
  /** Deletes a never-shared record; false when it was shared meanwhile (then it stays). */
  deleteUnshared(attachmentId: string): Promise<boolean>;
  /** Accounts whose attachments are to be purged, and when each was deleted (ISO). */
  purgeRequests(): Promise<{ userId: string; requestedAt: string }[]>;
  /** Deletes every record of the owner's attachments, then the purge marker if `done` (else a later sweep purges again). */
  completePurge(userId: string, done: boolean): Promise<number>;
}

/** Object storage for the encrypted blobs (S3; a local S3 on the laptop). */
export interface BlobStorePort {
  /** A presigned PUT that accepts exactly `size` bytes of application/octet-stream. */
  presignPut(key: string, size: number, expiresInSeconds: number): Promise<{ url: string; headers: Record<string, string> }>;
  presignGet(key: string, expiresInSeconds: number): Promise<{ url: string; headers: Record<string, string> }>;
  /** Size of the stored object, undefined when there is none. */
  sizeOf(key: string): Promise<number | undefined>;
  deleteObject(key: string): Promise<void>;
  /** Deletes every object under the prefix; how many. */
  deletePrefix(prefix: string): Promise<number>;
}
