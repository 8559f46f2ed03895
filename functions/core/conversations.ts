// Conversations and message delivery over injected ports: create the direct conversation once,
// store a message idempotently, push it to every device of both sides, receipts, typing, presence.
// The server handles ciphertext only; nothing here can read a message.
import { NotFound } from './errors.ts';
import { ackOf, assertCiphertext, assertNotSelf, directConversationId, type MessageRecord, type StoredSend } from './messaging.ts';

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
  userExists(userId: string): Promise<boolean>;
  ensureConversation(conversationId: string, a: string, b: string, now: Date): Promise<{ created: boolean; createdAt: string }>;
  getMember(conversationId: string, userId: string): Promise<MemberView | undefined>;
  getMessage(conversationId: string, messageId: string): Promise<MessageRecord | undefined>;
  storeMessage(req: {
    conversationId: string;
    senderId: string;
    recipientId: string;
    clientMessageId: string;
    ciphertext: string;
    nonce: string;
    senderKeyVersion: number;
    recipientKeyVersion: number;
    retentionSeconds: number;
  }): Promise<StoredSend>;
  advancePosition(conversationId: string, userId: string, field: 'readUpTo' | 'deliveredUpTo', messageId: string): Promise<boolean>;
  partnersOf(userId: string): Promise<string[]>;
  /** Pushes a frame to every open connection of the users, except one; cleans up gone ones. */
  push(userIds: readonly string[], frame: Record<string, unknown>, exceptConnectionId?: string): Promise<unknown>;
  retentionSeconds: number;
  now(): number;
}

const notFound = () => new NotFound('No such conversation', 'conversation_not_found');
const unknownUser = () => new NotFound('No such user', 'user_not_found');

export async function openConversation(deps: MessagingDeps, callerId: string, otherId: string) {
  assertNotSelf(callerId, otherId);
  if (!(await deps.userExists(otherId))) throw unknownUser();
  const conversationId = directConversationId(callerId, otherId);
  const result = await deps.ensureConversation(conversationId, callerId, otherId, new Date(deps.now()));
  return { conversationId, created: result.created, createdAt: result.createdAt };
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
  const { conversationId } = await openConversation(deps, senderId, to);
  const stored = await deps.storeMessage({ conversationId, senderId, recipientId: to, ...input, retentionSeconds: deps.retentionSeconds });
  if (!stored.duplicate) {
    const frame = (seq: number) => ({ type: 'message', ...stored.message, seq });
    await Promise.all([deps.push([to], frame(stored.recipientSeq)), deps.push([senderId], frame(stored.senderSeq), senderConnectionId)]);
  }
  return { ack: ackOf(stored.message), duplicate: stored.duplicate };
}

/** HTTP send into a conversation by id: the caller must be a member; the peer is the recipient. */
export async function sendToConversation(deps: MessagingDeps, senderId: string, conversationId: string, input: SendInput) {
  const member = await requireMember(deps, conversationId, senderId);
  return sendMessage(deps, senderId, member.peerId, input);
}

export async function typing(deps: MessagingDeps, from: string, to: string): Promise<void> {
  const conversationId = directConversationId(from, to);
  await requireMember(deps, conversationId, from);
  await deps.push([to], { type: 'typing', from, conversationId });
}

/** Read and delivered receipts: positions only move forward; the partner hears of each move. */
export async function receipt(deps: MessagingDeps, kind: 'read' | 'delivered', userId: string, conversationId: string, upToMessageId: string): Promise<void> {
  const member = await requireMember(deps, conversationId, userId);
  if (!(await deps.getMessage(conversationId, upToMessageId))) throw new NotFound('No such message in this conversation', 'message_not_found');
  const moved = await deps.advancePosition(conversationId, userId, kind === 'read' ? 'readUpTo' : 'deliveredUpTo', upToMessageId);
  if (moved) await deps.push([member.peerId], { type: kind, conversationId, by: userId, upToMessageId });
}

export async function announcePresence(deps: MessagingDeps, userId: string, status: 'online' | 'offline', lastSeen?: string): Promise<void> {
  const partners = await deps.partnersOf(userId);
  if (partners.length) await deps.push(partners, { type: 'presence', userId, status, ...(lastSeen ? { lastSeen } : {}) });
}
