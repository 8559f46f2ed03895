// Conversations and message delivery over ports: create the direct conversation once, store a
// message idempotently, push it to every device of both sides, receipts, typing, presence, and the
// reads (inbox, history, sync). The server handles ciphertext only; nothing here can read a message.
// (The rules that need no storage, such as conversation ids and ciphertext sizes, are in message-rules.ts.)
import type { Conversation, MessageInput } from '#contract/conversations/schemas.ts';
import type { PushFrame } from '#contract/realtime/frames.ts';
import type { Config } from './config.ts';
import { Forbidden, NotFound, Unauthorized } from './errors.ts';
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
  MetricsPort,
  SecurityEventsPort,
  UserRecord,
  UsersPort,
} from './ports.ts';

/** What every conversation operation needs: sends, opening and receipts use no listing reads. */
export interface ConversationBaseDeps {
  config: Config;
  clock: Clock;
  users: Pick<UsersPort, 'get' | 'displayNames'>;
  conversations: MessageStorePort;
}

/** What reading conversations needs: the listing reads too (history, sync, inbox). */
export interface ConversationReadDeps extends ConversationBaseDeps {
  conversations: ConversationsPort;
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

/** Sending also counts the messages stored (MessagesSent). */
export interface SendDeps extends ConversationDeps {
  metrics: MetricsPort;
}

const notFound = () => new NotFound('No such conversation', 'conversation_not_found');

/** Partners who may hear about the user (key changes, presence): no one across a block. */
export async function reachablePartners(
  deps: { conversations: Pick<ConversationsPort, 'partnersOf'>; blocks: Pick<BlocksPort, 'blockRelations'> },
  userId: string,
  limit?: number,
): Promise<string[]> {
  const [all, blocked] = await Promise.all([deps.conversations.partnersOf(userId, limit), deps.blocks.blockRelations(userId)]);
  return all.filter((p) => !blocked.has(p));
}
const unknownUser = () => new NotFound('No such user', 'user_not_found');

/**
 * The direct conversation of the caller and another user, created once. Only the caller's side
 * appears now; the other user's inbox entry comes with the first message delivered to them, so
 * opening a conversation reveals nothing to its target (not presence, not key changes) and a
 * blocked opener cannot tell. A user under auto-restriction cannot start new conversations.
 */
export async function openConversation(
  deps: OpeningDeps,
  callerId: string,
  otherId: string,
  opts: { refuseIfCallerBlocks?: boolean; caller?: Promise<UserRecord | undefined> } = {},
) {
  assertNotSelf(callerId, otherId);
  const conversationId = directConversationId(callerId, otherId);
  const [caller, other, existing, [callerBlocks, blockedByOther]] = await Promise.all([
    opts.caller ?? deps.users.get(callerId),
    deps.users.get(otherId),
    deps.conversations.getMember(conversationId, callerId),
    deps.blocks.blockPair(callerId, otherId),
  ]);
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
  const result = await deps.conversations.ensureConversation(conversationId, callerId, otherId, [callerId]);
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
   * The caller's user record as the per-frame session check reads it: awaited with the send's own
   * reads, so the check costs no round trip of its own. A failed check fails the send before any write.
   */
  caller?: Promise<UserRecord | undefined>;
}

/**
 * Stores and delivers one message. The sender is always the caller's identity, never input.
 * Three sequential rounds of DynamoDB calls: every read (and both sides' socket lookups) at once, the
 * idempotency record, then the message, the recipient's queue entry and both inbox entries at once.
 * A retry with the same clientMessageId returns the first ack and pushes nothing new (it completes
 * what a crashed first attempt left unwritten). `delivery` is the push to both sides' devices: the
 * caller sends the ack alongside it, never after it; it never rejects (a failed push is recorded and
 * the devices that missed it get the message by sync). MessagesSent is counted once per stored
 * message, by the copy that wrote its idempotency record and then the message.
 */
export async function sendMessage(deps: SendDeps, senderId: string, to: string, input: SendInput, opts: SendOptions = {}) {
  assertCiphertext(input.ciphertext, input.nonce);
  const sockets = Promise.all([deps.connections.openConnections(to), deps.connections.openConnections(senderId)]);
  sockets.catch(() => undefined); // awaited (and reported) by the delivery, if there is one
  const { conversationId, blockedByOther } = await openConversation(deps, senderId, to, { refuseIfCallerBlocks: true, caller: opts.caller });
  // Blocked by the recipient: stored for the sender's side only, never delivered; the sender's
  // ack and devices see an ordinary send.
  const stored = await deps.conversations.storeMessage({
    conversationId,
    senderId,
    recipientId: to,
    ...input,
    retentionSeconds: deps.config.messages.retentionSeconds,
    hiddenFrom: blockedByOther ? to : undefined,
  });
  const ack = ackOf(stored.message);
  // A copy that found the idempotency record (a retry, a concurrent copy, or a retry repairing a
  // crashed first attempt) neither counts nor pushes: only the copy that won the record does.
  if (stored.duplicate) return { ack, duplicate: true, delivery: Promise.resolve() };
  deps.metrics.count('MessagesSent'); // stored now
  return { ack, duplicate: false, delivery: deliver(deps, stored.message, sockets, opts.senderConnectionId) };
}

/** Pushes a stored message to the recipient's devices (unless hidden) and the sender's other ones. */
async function deliver(deps: ConversationDeps, message: MessageRecord, sockets: Promise<string[][]>, senderConnectionId: string | undefined) {
  const frame: PushFrame = { type: 'message', ...publicMessage(message) };
  const pushes = await Promise.allSettled([
    message.hiddenFrom ? undefined : sockets.then(([recipient]) => deps.connections.pushTo(recipient!, frame)),
    sockets.then(([, sender]) =>
      deps.connections.pushTo(
        sender!.filter((id) => id !== senderConnectionId),
        frame,
      ),
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
    conversations: Pick<ConversationsPort, 'partnersOf'>;
    blocks: Pick<BlocksPort, 'blockRelations'>;
    connections: Pick<ConnectionsPort, 'push'>;
    presenceFanoutMax: number;
  },
  userId: string,
  status: 'online' | 'offline',
  lastSeen?: string,
): Promise<void> {
  const partners = await reachablePartners(deps, userId, deps.presenceFanoutMax);
  if (partners.length) await deps.connections.push(partners, { type: 'presence', userId, status, ...(lastSeen ? { lastSeen } : {}) });
}

// ---- reads -----------------------------------------------------------------------------------------

/** The caller's inbox, latest activity first, with the peers' names and unread counts. */
export async function listConversations(
  deps: ConversationReadDeps,
  userId: string,
  limit: number,
  cursor: string | undefined,
): Promise<{ conversations: Conversation[]; cursor?: string }> {
  const page = await deps.conversations.inbox(userId, limit, cursor);
  const names = await deps.users.displayNames(page.items.map((m) => m.peerId));
  const conversations = await Promise.all(
    page.items.map(async (m) => ({
      conversationId: m.conversationId,
      peer: { userId: m.peerId, ...(names.has(m.peerId) ? { displayName: names.get(m.peerId)! } : {}) },
      createdAt: m.createdAt,
      ...(m.lastMessageId ? { lastMessage: { messageId: m.lastMessageId, senderId: m.lastSenderId!, sentAt: m.lastMessageAt! } } : {}),
      unreadCount: m.lastMessageId ? await deps.conversations.countUnread(m.conversationId, userId, m.readUpTo) : 0,
      ...(m.readUpTo ? { readUpTo: m.readUpTo } : {}),
    })),
  );
  return { conversations, ...(page.cursor ? { cursor: page.cursor } : {}) };
}

/** Ciphertext history, newest first; members only (others get the same 404 as for no conversation). */
export async function history(deps: ConversationReadDeps, userId: string, conversationId: string, before: string | undefined, limit: number | undefined) {
  await requireMember(deps, conversationId, userId);
  return deps.conversations.history(conversationId, userId, before, Math.min(limit ?? 50, deps.config.messages.historyPageMax));
}

/** Every message delivered to the user after the cursor, oldest first, each once per cursor chain. */
export async function sync(deps: ConversationReadDeps, userId: string, after: string | undefined, limit: number | undefined) {
  return deps.conversations.syncStream(userId, after, limit ?? 100);
}
