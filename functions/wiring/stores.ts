// The tables several areas share, created once: conversations (messages table), moderation
// (reports and audit), blocks and public keys.
import { groupQueries } from '#adapters/dynamodb/group-queries.ts';
import { messageQueries } from '#adapters/dynamodb/message-queries.ts';
import { messagesTable } from '#adapters/dynamodb/messages-table.ts';
import { partnersIndex } from '#adapters/dynamodb/partners-index.ts';
import { sendContextReader } from '#adapters/dynamodb/send-context.ts';
import { blocksTable } from '#adapters/dynamodb/blocks-table.ts';
import { reportQueries } from '#adapters/dynamodb/report-queries.ts';
import { reportsTable } from '#adapters/dynamodb/reports-table.ts';
import { publicKeysTable } from '#adapters/dynamodb/public-keys-table.ts';
import type {
  BlocksPort,
  ConversationsPort,
  GroupQueriesPort,
  MessageStorePort,
  ModerationPort,
  PublicKeysPort,
  ReportsPort,
  SendContextPort,
  PartnersPort,
} from '#core/ports.ts';
import { clock, db } from './platform.ts';

let messagesPort: MessageStorePort | undefined;
let conversationsPort: ConversationsPort | undefined;
let reportsPort: ReportsPort | undefined;
let moderationPort: ModerationPort | undefined;
let blocksPort: BlocksPort | undefined;
let publicKeysPort: PublicKeysPort | undefined;
let partnersPort: PartnersPort | undefined;
let sendContextPort: SendContextPort | undefined;
let groupQueriesPort: GroupQueriesPort | undefined;

/** Sends, opening and receipts: the messages table without its listing reads. */
export function messageStore(): MessageStorePort {
  return (messagesPort ??= messagesTable(db(), clock()));
}

/** The messages table with its listing reads (history, sync, inbox, unread). */
export function conversationStore(): ConversationsPort {
  return (conversationsPort ??= { ...messageStore(), ...messageQueries(db(), clock()) });
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
export function partners(): PartnersPort {
  return (partnersPort ??= partnersIndex(db()));
}

/** A send's first round: one BatchGetItem over five tables. */
export function sendContext(): SendContextPort {
  return (sendContextPort ??= sendContextReader(db()));
}

/** Group history and the inbox's group entries. */
export function groupQueryStore(): GroupQueriesPort {
  return (groupQueriesPort ??= groupQueries(db(), clock()));
}
