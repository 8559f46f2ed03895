// Conversations and message delivery over injected ports: create the direct conversation once,
// store a message idempotently, push it to every device of both sides, receipts, typing, presence.
// The server handles ciphertext only; nothing here can read a message.
import { Forbidden, NotFound, Unauthorized } from './errors.ts';
import { ackOf, assertCiphertext, assertNotSelf, directConversationId, publicMessage, type MessageRecord, type SendRequest, type StoredSend } from './messaging.ts';
import { assertActive } from './authn.ts';
import type { UserRecord } from './identity-ports.ts';

export interface MemberView {
  conversationId: string;
  userId: string;
  peerId: string;
  createdAt: string;
  lastMessageId?: string;
  lastMessageAt?: string;
  lastSenderId?: string;
  readUpTo?: string;
  deliveredUpTo?: string;
}

export interface MessagingDeps {
  getUser(userId: string): Promise<UserRecord | undefined>;
  ensureConversation(conversationId: string, a: string, b: string, now: Date, members?: readonly string[]): Promise<{ created: boolean; createdAt: string }>;
  /** [does a block b, does b block a] */
  blockPair(a: string, b: string): Promise<[boolean, boolean]>;
  /** Everyone the user blocks or is blocked by. */
  blockRelations(userId: string): Promise<Set<string>>;
  getMember(conversationId: string, userId: string): Promise<MemberView | undefined>;
  getMessage(conversationId: string, messageId: string): Promise<MessageRecord | undefined>;
  storeMessage(req: SendRequest): Promise<StoredSend>;
  advancePosition(conversationId: string, userId: string, field: 'readUpTo' | 'deliveredUpTo', messageId: string): Promise<boolean>;
  partnersOf(userId: string): Promise<string[]>;
  /** Pushes a frame to every open connection of the users, except one; cleans up gone ones. */
  push(userIds: readonly string[], frame: Record<string, unknown>, exceptConnectionId?: string): Promise<unknown>;
  retentionSeconds: number;
  now(): number;
  /** Counts one new conversation for the user (per-user limit), throwing RateLimited past it. */
  limitNewConversation(userId: string): Promise<void>;
}

const notFound = () => new NotFound('No such conversation', 'conversation_not_found');

/** Partners who may hear about the user (key changes, presence): no one across a block. */
export async function reachablePartners(deps: MessagingDeps, userId: string): Promise<string[]> {
  const [all, blocked] = await Promise.all([deps.partnersOf(userId), deps.blockRelations(userId)]);
  return all.filter((p) => !blocked.has(p));
}
const unknownUser = () => new NotFound('No such user', 'user_not_found');

/**
 * The direct conversation of the caller and another user, created once. Only the caller's side
 * appears now; the other user's inbox entry comes with the first message delivered to them, so
 * opening a conversation reveals nothing to its target (not presence, not key changes) and a
 * blocked opener cannot tell. A user under auto-restriction cannot start new conversations.
 */
export async function openConversation(deps: MessagingDeps, callerId: string, otherId: string, opts: { refuseIfCallerBlocks?: boolean } = {}) {
  assertNotSelf(callerId, otherId);
  const conversationId = directConversationId(callerId, otherId);
  const [caller, other, existing, [callerBlocks, blockedByOther]] = await Promise.all([
    deps.getUser(callerId),
    deps.getUser(otherId),
    deps.getMember(conversationId, callerId),
    deps.blockPair(callerId, otherId),
  ]);
  if (!other) throw unknownUser();
  if (!caller) throw new Unauthorized('This account no longer exists', 'token_revoked');
  assertActive(caller, deps.now());
  if (opts.refuseIfCallerBlocks && callerBlocks) throw new Forbidden('You block this user; unblock them to send', 'user_blocked');
  if (existing) return { conversationId, created: false, createdAt: existing.createdAt, blockedByOther, peer: other };
  if (caller.restrictedAt) {
    throw new Forbidden('Your account cannot start new conversations until a moderator has reviewed reports about it', 'account_restricted');
  }
  // counted here, where a conversation is really created, whichever route (HTTP or a first message) does it
  await deps.limitNewConversation(callerId);
  const result = await deps.ensureConversation(conversationId, callerId, otherId, new Date(deps.now()), [callerId]);
  return { conversationId, created: result.created, createdAt: result.createdAt, blockedByOther, peer: other };
}

/** Members only: others get the same 404 as for a conversation that does not exist. */
export async function requireMember(deps: MessagingDeps, conversationId: string, userId: string): Promise<MemberView> {
  const member = await deps.getMember(conversationId, userId);
  if (!member) throw notFound();
  return member;
}

export interface SendInput {
  clientMessageId: string;
  ciphertext: string;
  nonce: string;
  senderKeyVersion: number;
  recipientKeyVersion: number;
}

/**
 * Stores and delivers one message. The sender is always the caller's identity, never input.
 * A retry with the same clientMessageId returns the first ack and stores and pushes nothing new.
 */
export async function sendMessage(deps: MessagingDeps, senderId: string, to: string, input: SendInput, senderConnectionId?: string) {
  assertCiphertext(input.ciphertext, input.nonce);
  const { conversationId, blockedByOther } = await openConversation(deps, senderId, to, { refuseIfCallerBlocks: true });
  // Blocked by the recipient: stored for the sender's side only, never delivered; the sender's
  // ack and devices see an ordinary send.
  const stored = await deps.storeMessage({
    conversationId,
    senderId,
    recipientId: to,
    ...input,
    retentionSeconds: deps.retentionSeconds,
    hiddenFrom: blockedByOther ? to : undefined,
  });
  if (!stored.duplicate) {
    const frame = (seq: number) => ({ type: 'message', ...publicMessage(stored.message), seq });
    await Promise.all([
      stored.message.hiddenFrom ? undefined : deps.push([to], frame(stored.recipientSeq)),
      deps.push([senderId], frame(stored.senderSeq), senderConnectionId),
    ]);
  }
  return { ack: ackOf(stored.message), duplicate: stored.duplicate };
}

/** Ephemeral events never cross a block, in either direction. */
async function pushUnlessBlocked(deps: MessagingDeps, from: string, to: string, frame: Record<string, unknown>): Promise<void> {
  const [a, b] = await deps.blockPair(from, to);
  if (!a && !b) await deps.push([to], frame);
}

/** HTTP send into a conversation by id: the caller must be a member; the peer is the recipient. */
export async function sendToConversation(deps: MessagingDeps, senderId: string, conversationId: string, input: SendInput) {
  const member = await requireMember(deps, conversationId, senderId);
  return sendMessage(deps, senderId, member.peerId, input);
}

export async function typing(deps: MessagingDeps, from: string, to: string): Promise<void> {
  const conversationId = directConversationId(from, to);
  await requireMember(deps, conversationId, from);
  // only into an inbox that has the conversation: a stranger cannot push events at someone
  if (!(await deps.getMember(conversationId, to))) return;
  await pushUnlessBlocked(deps, from, to, { type: 'typing', from, conversationId });
}

/** Read and delivered receipts: positions only move forward; the partner hears of each move. */
export async function receipt(deps: MessagingDeps, kind: 'read' | 'delivered', userId: string, conversationId: string, upToMessageId: string): Promise<void> {
  const member = await requireMember(deps, conversationId, userId);
  const message = await deps.getMessage(conversationId, upToMessageId);
  if (!message || message.hiddenFrom === userId) throw new NotFound('No such message in this conversation', 'message_not_found');
  const moved = await deps.advancePosition(conversationId, userId, kind === 'read' ? 'readUpTo' : 'deliveredUpTo', upToMessageId);
  if (moved) await pushUnlessBlocked(deps, userId, member.peerId, { type: kind, conversationId, by: userId, upToMessageId });
}

/** Tells conversation partners, except anyone on either side of a block with the user. */
export async function announcePresence(deps: MessagingDeps, userId: string, status: 'online' | 'offline', lastSeen?: string): Promise<void> {
  const partners = await reachablePartners(deps, userId);
  if (partners.length) await deps.push(partners, { type: 'presence', userId, status, ...(lastSeen ? { lastSeen } : {}) });
}
