// Conversations and messages as clients see them. The server stores ciphertext only.
import * as z from 'zod/mini';
import { attachmentIds, base64, clientMessageId } from '../common.ts';

/** What a client sends (socket or HTTP). Ciphertext is limited to 64 KiB decoded; the schema admits a little more so the core can answer clearly. */
export const messageFields = {
  clientMessageId,
  ciphertext: base64(120_000),
  nonce: base64(64),
  senderKeyVersion: z.int().check(z.positive()),
  recipientKeyVersion: z.int().check(z.positive()),
  attachmentIds,
};
export const messageInput = z.strictObject(messageFields);
export type MessageInput = z.infer<typeof messageInput>;

/** A member's copy of a group message's key: the message key boxed to that member's current public key. */
export const wrappedKey = z.object({ wrappedKey: z.string(), nonce: z.string(), keyVersion: z.number() });

/** What a system entry in a group's history says happened (no ciphertext; senderId is the actor). */
export const groupEvents = ['created', 'joined', 'removed', 'left', 'roleChanged', 'renamed'] as const;
export type GroupEvent = (typeof groupEvents)[number];

export const message = z.object({
  conversationId: z.string(),
  messageId: z.string(),
  clientMessageId: z.string(),
  senderId: z.string(),
  recipientId: z.string(),
  ciphertext: z.string(),
  nonce: z.string(),
  senderKeyVersion: z.number(),
  recipientKeyVersion: z.number(),
  sentAt: z.string(),
  /** Encrypted attachments shared by this message (GET /api/attachments/{id}); keys and digests travel inside the ciphertext. */
  attachmentIds: z.optional(z.array(z.string())),
  /** Group messages: the recipient's own wrapped message key (recipientId is the member reading it). */
  key: z.optional(wrappedKey),
  /** Group system entries ("A added B"): ciphertext and nonce are empty. */
  event: z.optional(z.object({ type: z.enum(groupEvents), userId: z.optional(z.string()), role: z.optional(z.string()), name: z.optional(z.string()) })),
});
export type Message = z.infer<typeof message>;

export const ack = z.object({ clientMessageId: z.string(), messageId: z.string(), conversationId: z.string(), sentAt: z.string() });

/** Pure: only the bundles that answer with conversations keep it. */
export const conversation = /* @__PURE__ */ (() =>
  z.object({
    conversationId: z.string(),
    kind: z.enum(['direct', 'group']),
    /** Direct conversations: the other member. */
    peer: z.optional(z.object({ userId: z.string(), displayName: z.optional(z.string()) })),
    /** Group conversations: the name and member count. */
    name: z.optional(z.string()),
    memberCount: z.optional(z.int()),
    createdAt: z.string(),
    lastMessage: z.optional(z.object({ messageId: z.string(), senderId: z.string(), sentAt: z.string() })),
    unreadCount: z.int().check(z.nonnegative()),
    readUpTo: z.optional(z.string()),
  }))();
export type Conversation = z.infer<typeof conversation>;
