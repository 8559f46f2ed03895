// The tables several areas share, created once: conversations (messages table), moderation
// (reports and audit), blocks and public keys.
import { messagesTable } from '#adapters/dynamodb/messages-table.ts';
import { partnersIndex } from '#adapters/dynamodb/partners-index.ts';
import { blocksTable } from '#adapters/dynamodb/blocks-table.ts';
import { reportQueries } from '#adapters/dynamodb/report-queries.ts';
import { reportsTable } from '#adapters/dynamodb/reports-table.ts';
import { publicKeysTable } from '#adapters/dynamodb/public-keys-table.ts';
import type { BlocksPort, ConversationsPort, ModerationPort, PublicKeysPort, ReportsPort } from '#core/ports.ts';
import { clock, db } from './platform.ts';

let conversationsPort: ConversationsPort | undefined;
let reportsPort: ReportsPort | undefined;
let moderationPort: ModerationPort | undefined;
let blocksPort: BlocksPort | undefined;
let publicKeysPort: PublicKeysPort | undefined;
let partnersPort: Pick<ConversationsPort, 'partnersOf'> | undefined;

export function conversationStore(): ConversationsPort {
  return (conversationsPort ??= messagesTable(db(), clock()));
}

/** The report lifecycle and audit appends (deciding, sanctioning, reporting). */
export function reportStore(): ReportsPort {
  return (reportsPort ??= reportsTable(db(), clock()));
}

/** Reports, the queue and the audit log, reads included. */
export function moderationStore(): ModerationPort {
  return (moderationPort ??= { ...reportStore(), ...reportQueries(db()) });
}

export function blocks(): BlocksPort {
  return (blocksPort ??= blocksTable(db(), clock()));
}

export function publicKeyStore(): PublicKeysPort {
  return (publicKeysPort ??= publicKeysTable(db()));
}

/** Who a user has talked with, without the rest of the message store (key changes, presence). */
export function partners(): Pick<ConversationsPort, 'partnersOf'> {
  return (partnersPort ??= partnersIndex(db()));
}
