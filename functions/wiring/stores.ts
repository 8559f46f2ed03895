// The tables several areas share, created once: conversations (messages table), moderation
// (blocks, reports, audit) and public keys.
import { messagesTable } from '#adapters/dynamodb/messages-table.ts';
import { moderationTable } from '#adapters/dynamodb/moderation-table.ts';
import { publicKeysTable } from '#adapters/dynamodb/public-keys-table.ts';
import type { ConversationsPort, ModerationPort, PublicKeysPort } from '#core/ports.ts';
import { clock, db } from './platform.ts';

let conversationsPort: ConversationsPort | undefined;
let moderationPort: ModerationPort | undefined;
let publicKeysPort: PublicKeysPort | undefined;

export function conversationStore(): ConversationsPort {
  return (conversationsPort ??= messagesTable(db(), clock()));
}

export function moderationStore(): ModerationPort {
  return (moderationPort ??= moderationTable(db(), clock()));
}

/** Block checks are part of the moderation store. */
export const blocks = moderationStore;

export function publicKeyStore(): PublicKeysPort {
  return (publicKeysPort ??= publicKeysTable(db()));
}
