// Conversations and messages as clients see them. The server stores ciphertext only.
import * as z from 'zod/mini';
import { base64, clientMessageId } from '../common.ts';

/** What a client sends (socket or HTTP). Ciphertext is limited to 64 KiB decoded; the schema admits a little more so the core can answer clearly. */
export const messageFields = {
  clientMessageId,
  ciphertext: base64(120_000),
  nonce: base64(64),
  senderKeyVersion: z.int().check(z.positive()),
  recipientKeyVersion: z.int().check(z.positive()),
};
export const messageInput = z.strictObject(messageFields);
export type MessageInput = z.infer<typeof messageInput>;

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
});
export type Message = z.infer<typeof message>;

export const ack = z.object({ clientMessageId: z.string(), messageId: z.string(), conversationId: z.string(), sentAt: z.string() });

export const conversation = z.object({
  conversationId: z.string(),
  peer: z.object({ userId: z.string(), displayName: z.optional(z.string()) }),
  createdAt: z.string(),
  lastMessage: z.optional(z.object({ messageId: z.string(), senderId: z.string(), sentAt: z.string() })),
  unreadCount: z.int().check(z.nonnegative()),
  readUpTo: z.optional(z.string()),
});
export type Conversation = z.infer<typeof conversation>;
