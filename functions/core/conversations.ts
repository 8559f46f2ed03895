// Conversations and message delivery over ports: create the direct conversation once, store a
// message idempotently, push it to every device of both sides, receipts, typing, presence, and the
// reads (inbox, history, sync). The server handles ciphertext only; nothing here can read a message.
// (The rules that need no storage, such as conversation ids and ciphertext sizes, are in message-rules.ts.)
import type { Conversation, MessageInput } from '#contract/conversations/schemas.ts';
import type { PushFrame } from '#contract/realtime/frames.ts';
import type { Config } from './config.ts';
import { Forbidden, NotFound, Unauthorized } from './errors.ts';
import { shareable } from './attachment-rules.ts';
import { ackOf, assertCiphertext, assertNotSelf, directConversationId, publicMessage } from './message-rules.ts';
import { assertActive } from './authn.ts';
import { enforce } from './rate-limit.ts';
import type {
  Clock,
  ConnectionsPort,
  ConversationsPort,
  LimitsPort,
  MemberView,
  MessageRecord,
  MessageStorePort,
  BlocksPort,
  GroupQueriesPort,
  MetricsPort,
  SecurityEventsPort,
  SendContext,
  SendContextPort,
  UserRecord,
  UsersPort,
  PartnersPort,
} from './ports.ts';

/** What every conversation operation needs: sends, opening and receipts use no listing reads. */
export interface ConversationBaseDeps {
  config: Config;
  clock: Clock;
  users: Pick<UsersPort, 'get' | 'displayNames'>;
  conversations: MessageStorePort;
}

/** What reading conversations needs: the listing reads too (history, sync, inbox); groups' reads for the inbox and group history. */
export interface ConversationReadDeps extends ConversationBaseDeps {
  conversations: ConversationsPort;
  groups?: GroupQueriesPort;
}

/** Opening a conversation also checks blocks and the per-user limit of new conversations. */
export interface OpeningDeps extends ConversationBaseDeps {
  blocks: Pick<BlocksPort, 'blockPair' | 'blockRelations'>;
  limits: LimitsPort;
}

/** Sending and receipts also reach the sockets of both sides; a push that fails is recorded. */
export interface ConversationDeps extends OpeningDeps {
  connections: Pick<ConnectionsPort, 'push' | 'pushTo' | 'openConnections'>;
  events: SecurityEventsPort;
}

/**
 * Sending reads what it needs in one round trip (sendContext: blocks included, so no blocks port),
 * may open the conversation (the per-user limit of new ones), pushes to both sides, and counts
 * the messages stored (MessagesSent).
 */
export interface SendDeps extends ConversationBaseDeps {
  limits: LimitsPort;
  connections: Pick<ConnectionsPort, 'pushTo'>;
  events: SecurityEventsPort;
  metrics: MetricsPort;
  sendContext: SendContextPort;
}

const notFound = () => new NotFound('No such conversation', 'conversation_not_found');

/**
 * Partners who may hear about the user (key changes, presence): no one across a block. With `groups`,
 * also the current co-members of the user's `groups` most recently active groups (presence).
 */
export async function reachablePartners(
  deps: { conversations: PartnersPort; blocks: Pick<BlocksPort, 'blockRelations'> },
  userId: string,
  limit?: number,
  groups?: number,
): Promise<string[]> {
  const [all, blocked] = await Promise.all([deps.conversations.partnersOf(userId, limit, groups), deps.blocks.blockRelations(userId)]);
  return all.filter((p) => !blocked.has(p));
}
const unknownUser = () => new NotFound('No such user', 'user_not_found');
const laterOf = (a: string | undefined, b: string | undefined) => (a === undefined ? b : b === undefined || a > b ? a : b);

/**
 * The direct conversation of the caller and another user, created once. Only the caller's side
 * appears now; the other user's inbox entry comes with the first message delivered to them, so
 * opening a conversation reveals nothing to its target (not presence, not key changes) and a
 * blocked opener cannot tell. A user under auto-restriction cannot start new conversations.
 */
export async function openConversation(deps: OpeningDeps, callerId: string, otherId: string) {
  assertNotSelf(callerId, otherId);
  const conversationId = directConversationId(callerId, otherId);
  const [caller, other, existing, blocks] = await Promise.all([
    deps.users.get(callerId),
    deps.users.get(otherId),
    deps.conversations.getMember(conversationId, callerId),
    deps.blocks.blockPair(callerId, otherId),
  ]);
  return openWith(deps, conversationId, { callerId, caller, other, existing, blocks });
}

/** openConversation's rules, over reads made already (a send makes them with its own). */
async function openWith(
  deps: Pick<OpeningDeps, 'config' | 'clock' | 'limits' | 'conversations'>,
  conversationId: string,
  read: { callerId: string; caller: UserRecord | undefined; other: UserRecord | undefined; existing: MemberView | undefined; blocks: [boolean, boolean] },
  opts: { refuseIfCallerBlocks?: boolean } = {},
) {
  const { callerId, caller, other, existing } = read;
  const [callerBlocks, blockedByOther] = read.blocks;
  if (!other) throw unknownUser();
  if (!caller) throw new Unauthorized('This account no longer exists', 'token_revoked');
  assertActive(caller, deps.clock.now());
  if (opts.refuseIfCallerBlocks && callerBlocks) throw new Forbidden('You block this user; unblock them to send', 'user_blocked');
  if (existing) return { conversationId, created: false, createdAt: existing.createdAt, blockedByOther, peer: other };
  if (caller.restrictedAt) {
    throw new Forbidden('Your account cannot start new conversations until a moderator has reviewed reports about it', 'account_restricted');
  }
  // counted here, where a conversation is really created, whichever route (HTTP or a first message) does it
  await enforce(deps, 'conversationUser', callerId);
  const result = await deps.conversations.ensureConversation(conversationId, callerId, other.userId, [callerId]);
  return { conversationId, created: result.created, createdAt: result.createdAt, blockedByOther, peer: other };
}

/** Members only: others get the same 404 as for a conversation that does not exist. */
export async function requireMember(deps: Pick<ConversationBaseDeps, 'conversations'>, conversationId: string, userId: string): Promise<MemberView> {
  const member = await deps.conversations.getMember(conversationId, userId);
  if (!member) throw notFound();
  return member;
}

export type SendInput = MessageInput;

export interface SendOptions {
  /** The sending socket: it gets the ack, not an echo of the message. */
  senderConnectionId?: string | undefined;
  /**
   * The WebSocket frame's session check, made on the send's own first-round reads (the session family
   * and the caller's user record), so it costs no round trip of its own. It throws when the session has
   * ended; a send whose check fails writes nothing.
   */
  session?: { sessionId: string; check(caller: UserRecord | undefined, family: SendContext['family']): void };
  /** The route's per-user limit, started alongside the reads: awaited before anything is written. */
  admitted?: Promise<unknown>;
}

/**
 * Stores and delivers one message. The sender is always the caller's identity, never input.
 * Three sequential rounds of DynamoDB calls: (1) one BatchGetItem of everything the send must know
 * (session, both users, both member items, the block pair, both socket sets), alongside the per-user
 * limit's UpdateItem; (2) the idempotency record's conditional PutItem; (3) one BatchWriteItem of the
 * message, the recipient's queue entry and both inbox entries. Four calls in all.
 * A retry with the same clientMessageId returns the first ack and pushes nothing new (it completes
 * what a crashed first attempt left unwritten). `delivery` is the push to both sides' devices: the
 * caller sends the ack alongside it, never after it; it never rejects (a failed push is recorded and
 * the devices that missed it get the message by sync). MessagesSent is counted once per stored
 * message, by the copy that wrote its idempotency record and then the message.
 */
export async function sendMessage(deps: SendDeps, senderId: string, to: string, input: SendInput, opts: SendOptions = {}) {
  const conversationId = directConversationId(senderId, to);
  const read = await deps.sendContext.load({
    senderId,
    recipientId: to,
    conversationId,
    sessionId: opts.session?.sessionId,
    attachmentIds: input.attachmentIds,
  });
  // an ended session is refused as such, whatever else is wrong with the frame
  opts.session?.check(read.caller, read.family);
  assertNotSelf(senderId, to);
  assertCiphertext(input.ciphertext, input.nonce);
  await opts.admitted;
  const opened = await openWith(
    deps,
    conversationId,
    { callerId: senderId, caller: read.caller, other: read.recipient, existing: read.senderMember, blocks: read.blocks },
    { refuseIfCallerBlocks: true },
  );
  const senderMember = read.senderMember ?? { conversationId, userId: senderId, peerId: to, createdAt: opened.createdAt };
  const attachments = input.attachmentIds?.length ? shareable(input.attachmentIds, read.attachments, senderId, conversationId, deps.clock.now()) : undefined;
  // Blocked by the recipient: stored for the sender's side only, never delivered; the sender's
  // ack and devices see an ordinary send.
  // The push starts as soon as this copy holds the idempotency record (the message's id and content are
  // fixed), beside the last round of writes, not after it: one DynamoDB round less before the recipient
  // sees it. The sender's ack still waits for every write. If that last round fails, the sender gets an
  // error and no ack, and its retry (same clientMessageId) completes the store under the same id
  // without pushing again; until then a device that was pushed holds a message history does not.
  let delivery: Promise<void> | undefined;
  let stored;
  try {
    stored = await deps.conversations.storeMessage(
      {
        conversationId,
        senderId,
        recipientId: to,
        ...input,
        retentionSeconds: deps.config.messages.retentionSeconds,
        hiddenFrom: opened.blockedByOther ? to : undefined,
        members: { sender: senderMember, recipient: read.recipientMember },
        attachments,
      },
      (message) => {
        delivery = deliver(deps, message, read.sockets, opts.senderConnectionId);
      },
    );
  } catch (error) {
    await delivery; // never rejects; a Lambda must not end with pushes in flight
    throw error;
  }
  const ack = ackOf(stored.message);
  // A copy that found the idempotency record (a retry, a concurrent copy, or a retry repairing a
  // crashed first attempt) neither counts nor pushes: only the copy that won the record does.
  if (stored.duplicate) return { ack, duplicate: true, delivery: Promise.resolve() };
  deps.metrics.count('MessagesSent'); // stored now
  return { ack, duplicate: false, delivery: delivery ?? Promise.resolve() };
}

/** Pushes a stored message to the recipient's devices (unless hidden) and the sender's other ones. */
async function deliver(
  deps: Pick<SendDeps, 'connections' | 'events'>,
  message: MessageRecord,
  sockets: [string[], string[]],
  senderConnectionId: string | undefined,
) {
  const frame: PushFrame = { type: 'message', ...publicMessage(message) };
  const [recipient, sender] = sockets;
  const pushes = await Promise.allSettled([
    message.hiddenFrom ? undefined : deps.connections.pushTo(recipient, frame),
    deps.connections.pushTo(
      sender.filter((id) => id !== senderConnectionId),
      frame,
    ),
  ]);
  pushes.forEach((p, i) => {
    if (p.status === 'rejected') {
      deps.events.record('message_push_failed', {
        conversationId: message.conversationId,
        messageId: message.messageId,
        side: i === 0 ? 'recipient' : 'sender',
        errorName: (p.reason as Error)?.name,
      });
    }
  });
}

/** Ephemeral events never cross a block, in either direction. */
async function pushUnlessBlocked(deps: ConversationDeps, from: string, to: string, frame: PushFrame): Promise<void> {
  const [a, b] = await deps.blocks.blockPair(from, to);
  if (!a && !b) await deps.connections.push([to], frame);
}

/** HTTP send into a conversation by id: the caller must be a member; the peer is the recipient. */
export async function sendToConversation(deps: SendDeps, senderId: string, conversationId: string, input: SendInput, opts: SendOptions = {}) {
  const member = await requireMember(deps, conversationId, senderId);
  return sendMessage(deps, senderId, member.peerId, input, opts);
}

export async function typing(deps: ConversationDeps, from: string, to: string): Promise<void> {
  const conversationId = directConversationId(from, to);
  await requireMember(deps, conversationId, from);
  // only into an inbox that has the conversation: a stranger cannot push events at someone
  if (!(await deps.conversations.getMember(conversationId, to))) return;
  await pushUnlessBlocked(deps, from, to, { type: 'typing', from, conversationId });
}

/** Read and delivered receipts: positions only move forward; the partner hears of each move. */
export async function receipt(
  deps: ConversationDeps,
  kind: 'read' | 'delivered',
  userId: string,
  conversationId: string,
  upToMessageId: string,
): Promise<void> {
  const member = await requireMember(deps, conversationId, userId);
  const message = await deps.conversations.getMessage(conversationId, upToMessageId);
  if (!message || message.hiddenFrom === userId) throw new NotFound('No such message in this conversation', 'message_not_found');
  const moved = await deps.conversations.advancePosition(conversationId, userId, kind === 'read' ? 'readUpTo' : 'deliveredUpTo', upToMessageId);
  if (moved) await pushUnlessBlocked(deps, userId, member.peerId, { type: kind, conversationId, by: userId, upToMessageId });
}

/**
 * Tells conversation partners, except anyone on either side of a block with the user: at most
 * `presenceFanoutMax` of them (PRESENCE_FANOUT_MAX), those with the latest conversation activity.
 */
export async function announcePresence(
  deps: {
    conversations: PartnersPort;
    blocks: Pick<BlocksPort, 'blockRelations'>;
    connections: Pick<ConnectionsPort, 'push'>;
    presenceFanoutMax: number;
    /** Co-members of the user's this many most recently active groups hear it too (PRESENCE_GROUPS_MAX). */
    presenceGroupsMax?: number;
  },
  userId: string,
  status: 'online' | 'offline',
  lastSeen?: string,
): Promise<void> {
  const partners = await reachablePartners(deps, userId, deps.presenceFanoutMax, deps.presenceGroupsMax);
  if (partners.length) await deps.connections.push(partners, { type: 'presence', userId, status, ...(lastSeen ? { lastSeen } : {}) });
}

// ---- reads -----------------------------------------------------------------------------------------

/** The caller's inbox, latest activity first, with the peers' names (or the groups' names) and unread counts. */
export async function listConversations(
  deps: ConversationReadDeps,
  userId: string,
  limit: number,
  cursor: string | undefined,
): Promise<{ conversations: Conversation[]; cursor?: string }> {
  const page = await deps.conversations.inbox(userId, limit, cursor);
  const direct = page.items.filter((m) => m.kind !== 'group');
  const groupIds = page.items.filter((m) => m.kind === 'group').map((m) => m.conversationId);
  const [names, positions, groups] = await Promise.all([
    deps.users.displayNames(direct.map((m) => m.peerId)),
    deps.conversations.readPositions(
      page.items.map((m) => m.conversationId),
      userId,
    ),
    groupIds.length && deps.groups ? deps.groups.summaries(groupIds, userId) : new Map<string, { name: string; memberCount: number }>(),
  ]);
  // a group entry a send rewrote just after its member left is not shown (summaries holds current members only)
  const shown = page.items.filter((m) => m.kind !== 'group' || groups.has(m.conversationId));
  const conversations = await Promise.all(
    shown.map(async (m): Promise<Conversation> => {
      // positions have their own items; a member item written before that may still carry one
      const readUpTo = laterOf(m.readUpTo, positions.get(m.conversationId));
      const group = groups.get(m.conversationId);
      const unread = !m.lastMessageId
        ? 0
        : group
          ? await deps.groups!.countUnread(m.conversationId, userId, readUpTo)
          : await deps.conversations.countUnread(m.conversationId, userId, readUpTo);
      return {
        conversationId: m.conversationId,
        ...(group
          ? { kind: 'group' as const, name: group.name, memberCount: group.memberCount }
          : { kind: 'direct' as const, peer: { userId: m.peerId, ...(names.has(m.peerId) ? { displayName: names.get(m.peerId)! } : {}) } }),
        createdAt: m.createdAt,
        ...(m.lastMessageId ? { lastMessage: { messageId: m.lastMessageId, senderId: m.lastSenderId!, sentAt: m.lastMessageAt! } } : {}),
        unreadCount: unread,
        ...(readUpTo ? { readUpTo } : {}),
      };
    }),
  );
  return { conversations, ...(page.cursor ? { cursor: page.cursor } : {}) };
}

/** Ciphertext history, newest first; members only (others get the same 404 as for no conversation). */
export async function history(deps: ConversationReadDeps, userId: string, conversationId: string, before: string | undefined, limit: number | undefined) {
  if (conversationId.startsWith('gr_')) {
    // a group: the caller's own copies only (none from before joining); former members get the 404 of strangers
    const page = await deps.groups?.history(conversationId, userId, before, Math.min(limit ?? 50, deps.config.messages.historyPageMax));
    if (!page) throw notFound();
    return page;
  }
  // The page holds only messages addressed to the caller, so a page with any is its own proof of
  // membership: the member item is read only for an empty page (a non-member's always is).
  const page = await deps.conversations.history(conversationId, userId, before, Math.min(limit ?? 50, deps.config.messages.historyPageMax));
  if (page.messages.length === 0) await requireMember(deps, conversationId, userId);
  return page;
}

/** Every message delivered to the user after the cursor, oldest first, each once per cursor chain. */
export async function sync(deps: ConversationReadDeps, userId: string, after: string | undefined, limit: number | undefined) {
  return deps.conversations.syncStream(userId, after, limit ?? 100);
}
