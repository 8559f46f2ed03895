// Messages table. Per conversation: META, one MEMBER#<user> item per member (GSI byMember keyed
// INBOX#<user> / <last activity>#<conversation> for the inbox), MSG#<ulid> items and CMID#<sender>#<id>
// idempotency records. Per user: a gapless sync stream STREAM#<user> / SEQ#<n> with its COUNTER.
// A send is one transaction whose counter conditions make each stream gapless and ordered.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { ServiceUnavailable } from '#core/errors.ts';
import type { MessageRecord, StoredSend } from '#core/messaging.ts';
import { doc, tableName } from './dynamo.ts';

const newUlid = monotonicFactory();
const SEQ_DIGITS = 12;
const seqKey = (n: number) => `SEQ#${String(n).padStart(SEQ_DIGITS, '0')}`;
const convKey = (c: string, sk: string) => ({ pk: `CONV#${c}`, sk });
const memberKey = (c: string, u: string) => convKey(c, `MEMBER#${u}`);
const counterKey = (u: string) => ({ pk: `STREAM#${u}`, sk: 'COUNTER' });
const isConditionFailure = (e: unknown) => (e as Error).name === 'ConditionalCheckFailedException';
const table = () => tableName('messages');

export interface MemberRecord {
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

function strip<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, expiresAt: _e, ...rest } = item;
  return rest as T;
}

/** Creates the conversation and both member items once; concurrent callers all see the same one. */
export async function ensureConversation(conversationId: string, a: string, b: string, now: Date): Promise<{ created: boolean; createdAt: string }> {
  const createdAt = now.toISOString();
  const member = (u: string, peer: string) => ({
    ...memberKey(conversationId, u),
    conversationId,
    userId: u,
    peerId: peer,
    createdAt,
    gsi1pk: `INBOX#${u}`,
    gsi1sk: `${createdAt}#${conversationId}`,
  });
  try {
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: table(), Item: { ...convKey(conversationId, 'META'), conversationId, members: [a, b].sort(), createdAt }, ConditionExpression: 'attribute_not_exists(pk)' } },
          { Put: { TableName: table(), Item: member(a, b), ConditionExpression: 'attribute_not_exists(pk)' } },
          { Put: { TableName: table(), Item: member(b, a), ConditionExpression: 'attribute_not_exists(pk)' } },
        ],
      }),
    );
    return { created: true, createdAt };
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const existing = await doc.send(new GetCommand({ TableName: table(), Key: convKey(conversationId, 'META'), ConsistentRead: true }));
    if (!existing.Item) throw new ServiceUnavailable('Conversation is being created; retry', 'conflict_retry');
    return { created: false, createdAt: existing.Item.createdAt as string };
  }
}

export async function getMember(conversationId: string, userId: string): Promise<MemberRecord | undefined> {
  const out = await doc.send(new GetCommand({ TableName: table(), Key: memberKey(conversationId, userId), ConsistentRead: true }));
  return out.Item ? strip<MemberRecord>(out.Item) : undefined;
}

export async function getMessage(conversationId: string, messageId: string): Promise<MessageRecord | undefined> {
  const out = await doc.send(new GetCommand({ TableName: table(), Key: convKey(conversationId, `MSG#${messageId}`), ConsistentRead: true }));
  if (!out.Item || (out.Item.expiresAt as number) * 1000 <= Date.now()) return undefined;
  return strip<MessageRecord>(out.Item);
}

async function findDuplicate(conversationId: string, senderId: string, clientMessageId: string): Promise<MessageRecord | undefined> {
  const out = await doc.send(new GetCommand({ TableName: table(), Key: convKey(conversationId, `CMID#${senderId}#${clientMessageId}`), ConsistentRead: true }));
  if (!out.Item) return undefined;
  return getMessage(conversationId, out.Item.messageId as string);
}

async function readCounters(a: string, b: string): Promise<[number, number]> {
  const out = await doc.send(new BatchGetCommand({ RequestItems: { [table()]: { Keys: [counterKey(a), counterKey(b)], ConsistentRead: true } } }));
  const items = out.Responses?.[table()] ?? [];
  const seqOf = (u: string) => Number(items.find((i) => i.pk === `STREAM#${u}`)?.seq ?? 0);
  return [seqOf(a), seqOf(b)];
}

function counterUpdate(userId: string, prev: number) {
  return {
    Update: {
      TableName: table(),
      Key: counterKey(userId),
      UpdateExpression: 'SET seq = :next',
      ConditionExpression: prev === 0 ? 'attribute_not_exists(seq)' : 'seq = :prev',
      ExpressionAttributeValues: prev === 0 ? { ':next': 1 } : { ':next': prev + 1, ':prev': prev },
    },
  };
}

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
}

/**
 * Stores a message once per (sender, clientMessageId), in one transaction with: its idempotency
 * record, the next entry of both users' sync streams (counter conditions keep them gapless), and
 * both members' inbox entries. Lost races (another send took the counter, a transaction conflict)
 * retry with fresh counters; a lost idempotency race returns the stored copy.
 */
export async function storeMessage(req: SendRequest): Promise<StoredSend> {
  for (let attempt = 0; attempt < 12; attempt++) {
    const existing = await findDuplicate(req.conversationId, req.senderId, req.clientMessageId);
    if (existing) return { message: existing, senderSeq: 0, recipientSeq: 0, duplicate: true };
    const [senderPrev, recipientPrev] = await readCounters(req.senderId, req.recipientId);
    const now = Date.now();
    const message: MessageRecord = {
      conversationId: req.conversationId,
      messageId: newUlid(now),
      clientMessageId: req.clientMessageId,
      senderId: req.senderId,
      recipientId: req.recipientId,
      ciphertext: req.ciphertext,
      nonce: req.nonce,
      senderKeyVersion: req.senderKeyVersion,
      recipientKeyVersion: req.recipientKeyVersion,
      sentAt: new Date(now).toISOString(),
    };
    const expiresAt = Math.floor(now / 1000) + req.retentionSeconds;
    const streamEntry = (userId: string, seq: number) => ({
      Put: { TableName: table(), Item: { pk: `STREAM#${userId}`, sk: seqKey(seq), seq, conversationId: req.conversationId, messageId: message.messageId, expiresAt } },
    });
    const inbox = (userId: string) => ({
      Update: {
        TableName: table(),
        Key: memberKey(req.conversationId, userId),
        UpdateExpression: 'SET gsi1sk = :act, lastMessageId = :m, lastMessageAt = :at, lastSenderId = :s',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':act': `${message.sentAt}#${req.conversationId}`, ':m': message.messageId, ':at': message.sentAt, ':s': req.senderId },
      },
    });
    try {
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: table(), Item: { ...convKey(req.conversationId, `MSG#${message.messageId}`), ...message, expiresAt }, ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Put: {
                TableName: table(),
                Item: { ...convKey(req.conversationId, `CMID#${req.senderId}#${req.clientMessageId}`), messageId: message.messageId, expiresAt },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            counterUpdate(req.senderId, senderPrev),
            streamEntry(req.senderId, senderPrev + 1),
            counterUpdate(req.recipientId, recipientPrev),
            streamEntry(req.recipientId, recipientPrev + 1),
            inbox(req.senderId),
            inbox(req.recipientId),
          ],
        }),
      );
      return { message, senderSeq: senderPrev + 1, recipientSeq: recipientPrev + 1, duplicate: false };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      // any cancellation (duplicate, counter moved, conflict) is resolved by re-reading
      await new Promise((r) => setTimeout(r, Math.random() * 10 * (attempt + 1)));
    }
  }
  throw new ServiceUnavailable('Too much contention storing the message; retry with the same clientMessageId', 'busy');
}

/** History, newest first; `before` is exclusive. Expired messages are skipped (TTL is best-effort). */
export async function listMessages(conversationId: string, before: string | undefined, limit: number): Promise<{ messages: MessageRecord[]; before?: string }> {
  const out = await doc.send(
    new QueryCommand({
      TableName: table(),
      KeyConditionExpression: before ? 'pk = :pk AND sk BETWEEN :lo AND :hi' : 'pk = :pk AND begins_with(sk, :lo)',
      ExpressionAttributeValues: { ':pk': `CONV#${conversationId}`, ':lo': 'MSG#', ...(before ? { ':hi': `MSG#${before}` } : {}) },
      ScanIndexForward: false,
      Limit: limit + 1,
    }),
  );
  const now = Date.now();
  const items = (out.Items ?? []).filter((i) => i.messageId !== before);
  const page = items.slice(0, limit);
  const more = items.length > limit || (out.LastEvaluatedKey !== undefined && page.length === limit);
  const messages = page.filter((i) => (i.expiresAt as number) * 1000 > now).map((i) => strip<MessageRecord>(i));
  return more && page.length ? { messages, before: page.at(-1)!.messageId as string } : { messages };
}

/** The caller's stream after a sequence number, in order; each entry resolved to its message. */
export async function syncStream(userId: string, after: number, limit: number) {
  const out = await doc.send(
    new QueryCommand({
      TableName: table(),
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
      ExpressionAttributeValues: { ':pk': `STREAM#${userId}`, ':lo': seqKey(after + 1), ':hi': 'SEQ#~' },
      Limit: limit,
    }),
  );
  const entries = out.Items ?? [];
  const keys = entries.map((e) => convKey(e.conversationId as string, `MSG#${e.messageId}`));
  const found = new Map<string, Record<string, unknown>>();
  let pending: Record<string, unknown>[] = keys;
  while (pending.length) {
    const res = await doc.send(new BatchGetCommand({ RequestItems: { [table()]: { Keys: pending.slice(0, 100) } } }));
    for (const item of res.Responses?.[table()] ?? []) found.set(`${item.pk}|${item.sk}`, item);
    const unprocessed = (res.UnprocessedKeys?.[table()]?.Keys ?? []) as Record<string, unknown>[];
    pending = [...unprocessed, ...pending.slice(100)];
  }
  const now = Date.now();
  const messages = entries.flatMap((e) => {
    const item = found.get(`CONV#${e.conversationId}|MSG#${e.messageId}`);
    if (!item || (item.expiresAt as number) * 1000 <= now) return [];
    return [{ ...strip<MessageRecord>(item), seq: e.seq as number }];
  });
  const cursor = entries.length ? (entries.at(-1)!.seq as number) : after;
  return { messages, cursor, hasMore: out.LastEvaluatedKey !== undefined };
}

/** A page of the caller's inbox, latest activity first. */
export async function listInbox(userId: string, limit: number, cursor?: Record<string, unknown>) {
  const out = await doc.send(
    new QueryCommand({
      TableName: table(),
      IndexName: 'byMember',
      KeyConditionExpression: 'gsi1pk = :inbox',
      ExpressionAttributeValues: { ':inbox': `INBOX#${userId}` },
      ScanIndexForward: false,
      Limit: limit,
      ...(cursor ? { ExclusiveStartKey: cursor } : {}),
    }),
  );
  return { members: (out.Items ?? []).map((i) => strip<MemberRecord>(i)), next: out.LastEvaluatedKey };
}

/** Messages from the peer after the read position, counted up to a cap (the badge shows "99+"). */
export async function countUnread(conversationId: string, userId: string, readUpTo: string | undefined, cap = 100): Promise<number> {
  const out = await doc.send(
    new QueryCommand({
      TableName: table(),
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
      FilterExpression: 'senderId <> :me',
      ExpressionAttributeValues: { ':pk': `CONV#${conversationId}`, ':lo': readUpTo ? `MSG#${readUpTo}\u0000` : 'MSG#', ':hi': 'MSG#~', ':me': userId },
      Select: 'COUNT',
      Limit: cap,
    }),
  );
  return out.Count ?? 0;
}

/** Everyone the user shares a conversation with (for presence and key-change events). */
export async function partnersOf(userId: string): Promise<string[]> {
  const peers: string[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new QueryCommand({
        TableName: table(),
        IndexName: 'byMember',
        KeyConditionExpression: 'gsi1pk = :inbox',
        ExpressionAttributeValues: { ':inbox': `INBOX#${userId}` },
        ProjectionExpression: 'peerId',
        ExclusiveStartKey,
      }),
    );
    for (const i of page.Items ?? []) peers.push(i.peerId as string);
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return peers;
}

/** Moves a read or delivered position forward only; false when it would not move. */
export async function advancePosition(conversationId: string, userId: string, field: 'readUpTo' | 'deliveredUpTo', messageId: string): Promise<boolean> {
  try {
    await doc.send(
      new UpdateCommand({
        TableName: table(),
        Key: memberKey(conversationId, userId),
        UpdateExpression: 'SET #f = :m',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#f) OR #f < :m)',
        ExpressionAttributeNames: { '#f': field },
        ExpressionAttributeValues: { ':m': messageId },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}
