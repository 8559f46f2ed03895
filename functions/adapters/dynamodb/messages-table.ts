// Messages table. Per conversation: META, one MEMBER#<user> item per member (GSI byMember keyed
// INBOX#<user> / <last activity>#<conversation> for the inbox), MSG#<ulid> items and CMID#<sender>#<id>
// idempotency records. Per user: a gapless sync stream STREAM#<user> / SEQ#<n> with its COUNTER.
// A send is one transaction whose counter conditions make each stream gapless and ordered.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import type { Message } from '#contract/conversations/schemas.ts';
import { ServiceUnavailable } from '#core/errors.ts';
import { messageRecord, publicMessage } from '#core/message-rules.ts';
import type { Clock, ConversationsPort, MemberView, MessageRecord, SendRequest, StoredSend } from '#core/ports.ts';
import { cursors, decodeCursor, encodeCursor } from './cursor.ts';
import { partnersIndex } from './partners-index.ts';
import { isConditionFailure, stripKeys, type Db } from './db.ts';

const newUlid = monotonicFactory();
const SEQ_DIGITS = 12;
const seqKey = (n: number) => `SEQ#${String(n).padStart(SEQ_DIGITS, '0')}`;
const convKey = (c: string, sk: string) => ({ pk: `CONV#${c}`, sk });
const memberKey = (c: string, u: string) => convKey(c, `MEMBER#${u}`);
const counterKey = (u: string) => ({ pk: `STREAM#${u}`, sk: 'COUNTER' });
const strip = <T>(item: Record<string, unknown>): T => stripKeys<T>(item, ['expiresAt']);

/** A cancellation whose every reason is a failed condition or a conflicting transaction. */
function lostRace(error: unknown): boolean {
  if (!(error instanceof TransactionCanceledException)) return false;
  const codes = (error.CancellationReasons ?? []).map((r) => r.Code ?? 'None').filter((c) => c !== 'None');
  return codes.length > 0 && codes.every((c) => c === 'ConditionalCheckFailed' || c === 'TransactionConflict');
}

export function messagesTable(db: Db, clock: Clock): ConversationsPort {
  const { doc } = db;
  const table = () => db.table('messages');

  /**
   * Creates the conversation once (concurrent callers all see the same one) and the member items of
   * `members` (both by default; only the caller when the other side blocks them, so it never shows up
   * in the blocker's inbox). A member item missing later is created by the first delivered message.
   */
  async function ensureConversation(
    conversationId: string,
    a: string,
    b: string,
    members: readonly string[] = [a, b],
  ): Promise<{ created: boolean; createdAt: string }> {
    let createdAt = new Date(clock.now()).toISOString();
    let created = true;
    try {
      await doc.send(
        new PutCommand({
          TableName: table(),
          Item: { ...convKey(conversationId, 'META'), conversationId, members: [a, b].sort(), createdAt },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      created = false;
      const existing = await doc.send(new GetCommand({ TableName: table(), Key: convKey(conversationId, 'META'), ConsistentRead: true }));
      createdAt = (existing.Item?.createdAt as string) ?? createdAt;
    }
    await Promise.all(
      members.map(async (u) => {
        const peer = u === a ? b : a;
        try {
          await doc.send(
            new PutCommand({
              TableName: table(),
              Item: {
                ...memberKey(conversationId, u),
                conversationId,
                userId: u,
                peerId: peer,
                createdAt,
                engagedAt: createdAt,
                gsi1pk: `INBOX#${u}`,
                gsi1sk: `${createdAt}#${conversationId}`,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
      }),
    );
    return { created, createdAt };
  }

  async function getMember(conversationId: string, userId: string): Promise<MemberView | undefined> {
    const out = await doc.send(new GetCommand({ TableName: table(), Key: memberKey(conversationId, userId), ConsistentRead: true }));
    return out.Item ? strip<MemberView>(out.Item) : undefined;
  }

  async function getMessage(conversationId: string, messageId: string): Promise<MessageRecord | undefined> {
    const out = await doc.send(new GetCommand({ TableName: table(), Key: convKey(conversationId, `MSG#${messageId}`), ConsistentRead: true }));
    if (!out.Item || (out.Item.expiresAt as number) * 1000 <= clock.now()) return undefined;
    return strip<MessageRecord>(out.Item);
  }

  async function findDuplicate(conversationId: string, senderId: string, clientMessageId: string): Promise<MessageRecord | undefined> {
    const out = await doc.send(
      new GetCommand({ TableName: table(), Key: convKey(conversationId, `CMID#${senderId}#${clientMessageId}`), ConsistentRead: true }),
    );
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

  /**
   * Stores a message once per (sender, clientMessageId), in one transaction with: its idempotency
   * record, the next entry of both users' sync streams (counter conditions keep them gapless), and
   * both members' inbox entries. Lost races (another send took the counter, a transaction conflict)
   * retry with fresh counters; a lost idempotency race returns the stored copy.
   */
  async function storeMessage(req: SendRequest): Promise<StoredSend> {
    for (let attempt = 0; attempt < 12; attempt++) {
      const existing = await findDuplicate(req.conversationId, req.senderId, req.clientMessageId);
      if (existing) return { message: existing, senderSeq: 0, recipientSeq: 0, duplicate: true };
      const [senderPrev, recipientPrev] = await readCounters(req.senderId, req.recipientId);
      const now = clock.now();
      const message = messageRecord(req, newUlid(now), now);
      const expiresAt = Math.floor(now / 1000) + req.retentionSeconds;
      const streamEntry = (userId: string, seq: number) => ({
        Put: {
          TableName: table(),
          Item: { pk: `STREAM#${userId}`, sk: seqKey(seq), seq, conversationId: req.conversationId, messageId: message.messageId, expiresAt },
        },
      });
      // An upsert: the member item appears with the first delivered message if it was not there
      // (a conversation opened while the recipient blocked the sender).
      // The sender's side is marked engaged: only conversations a user took part in make their
      // presence and key changes visible to the other side (a stranger's message does not).
      const inbox = (userId: string, peerId: string) => ({
        Update: {
          TableName: table(),
          Key: memberKey(req.conversationId, userId),
          UpdateExpression:
            'SET gsi1pk = :inbox, gsi1sk = :act, conversationId = :c, userId = :u, peerId = :p, createdAt = if_not_exists(createdAt, :at), lastMessageId = :m, lastMessageAt = :at, lastSenderId = :s' +
            (userId === req.senderId ? ', engagedAt = if_not_exists(engagedAt, :at)' : ''),
          ExpressionAttributeValues: {
            ':inbox': `INBOX#${userId}`,
            ':act': `${message.sentAt}#${req.conversationId}`,
            ':c': req.conversationId,
            ':u': userId,
            ':p': peerId,
            ':m': message.messageId,
            ':at': message.sentAt,
            ':s': req.senderId,
          },
        },
      });
      const hidden = Boolean(req.hiddenFrom);
      try {
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: table(),
                  Item: { ...convKey(req.conversationId, `MSG#${message.messageId}`), ...message, expiresAt },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Put: {
                  TableName: table(),
                  Item: { ...convKey(req.conversationId, `CMID#${req.senderId}#${req.clientMessageId}`), messageId: message.messageId, expiresAt },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              counterUpdate(req.senderId, senderPrev),
              streamEntry(req.senderId, senderPrev + 1),
              inbox(req.senderId, req.recipientId),
              ...(hidden
                ? []
                : [counterUpdate(req.recipientId, recipientPrev), streamEntry(req.recipientId, recipientPrev + 1), inbox(req.recipientId, req.senderId)]),
            ],
          }),
        );
        return { message, senderSeq: senderPrev + 1, recipientSeq: hidden ? 0 : recipientPrev + 1, duplicate: false };
      } catch (error) {
        // Only a lost race (a duplicate, a counter another send moved, a conflicting transaction) is
        // resolved by re-reading; throttling and anything else surface now (the SDK already retried).
        if (!lostRace(error)) throw error;
        await new Promise((r) => setTimeout(r, Math.random() * 10 * (attempt + 1)));
      }
    }
    throw new ServiceUnavailable('Too much contention storing the message; retry with the same clientMessageId', 'busy');
  }

  /** History as the viewer sees it, newest first; `before` is exclusive. Expired and hidden messages are skipped. */
  async function history(
    conversationId: string,
    viewerId: string,
    before: string | undefined,
    limit: number,
  ): Promise<{ messages: Message[]; before?: string }> {
    const out = await doc.send(
      new QueryCommand({
        TableName: table(),
        KeyConditionExpression: before ? 'pk = :pk AND sk BETWEEN :lo AND :hi' : 'pk = :pk AND begins_with(sk, :lo)',
        FilterExpression: '(attribute_not_exists(hiddenFrom) OR hiddenFrom <> :me) AND expiresAt > :now',
        ExpressionAttributeValues: {
          ':pk': `CONV#${conversationId}`,
          ':lo': 'MSG#',
          ':me': viewerId,
          ':now': Math.floor(clock.now() / 1000),
          // BETWEEN is inclusive: the largest key below `before`
          ...(before ? { ':hi': `MSG#${before.slice(0, -1)}${String.fromCharCode(before.charCodeAt(before.length - 1) - 1)}~` } : {}),
        },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    const messages = (out.Items ?? []).map((i) => publicMessage(strip<MessageRecord>(i)));
    const last = out.LastEvaluatedKey?.sk as string | undefined;
    return last ? { messages, before: last.slice('MSG#'.length) } : { messages };
  }

  /** The caller's stream after a sequence number, in order; each entry resolved to its message. */
  async function syncStream(userId: string, after: number, limit: number) {
    const out = await doc.send(
      new QueryCommand({
        TableName: table(),
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':pk': `STREAM#${userId}`, ':lo': seqKey(after + 1), ':hi': 'SEQ#~' },
        Limit: limit,
        // Entry and message are written in one transaction; only strongly consistent reads are
        // guaranteed to see both, and a cursor must never move past a message it did not return.
        ConsistentRead: true,
      }),
    );
    const entries = out.Items ?? [];
    const keys = entries.map((e) => convKey(e.conversationId as string, `MSG#${e.messageId}`));
    const found = new Map<string, Record<string, unknown>>();
    let pending: Record<string, unknown>[] = keys;
    while (pending.length) {
      const res = await doc.send(new BatchGetCommand({ RequestItems: { [table()]: { Keys: pending.slice(0, 100), ConsistentRead: true } } }));
      for (const item of res.Responses?.[table()] ?? []) found.set(`${item.pk}|${item.sk}`, item);
      const unprocessed = (res.UnprocessedKeys?.[table()]?.Keys ?? []) as Record<string, unknown>[];
      pending = [...unprocessed, ...pending.slice(100)];
    }
    const now = clock.now();
    const messages: (Omit<MessageRecord, 'hiddenFrom'> & { seq: number })[] = [];
    let cursor = after;
    for (const e of entries) {
      const item = found.get(`CONV#${e.conversationId}|MSG#${e.messageId}`);
      const entryExpired = (e.expiresAt as number) * 1000 <= now;
      // A live entry whose message is not readable yet ends the page: the client asks again later.
      if (!item && !entryExpired) return { messages, cursor, hasMore: true };
      if (item && (item.expiresAt as number) * 1000 > now) messages.push({ ...publicMessage(strip<MessageRecord>(item)), seq: e.seq as number });
      cursor = e.seq as number;
    }
    return { messages, cursor, hasMore: out.LastEvaluatedKey !== undefined };
  }

  /** A page of the caller's inbox, latest activity first. */
  async function inbox(userId: string, limit: number, cursorText?: string) {
    const cursor = decodeCursor(cursorText, cursors.inbox(userId));
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
    return { items: (out.Items ?? []).map((i) => strip<MemberView>(i)), cursor: encodeCursor(out.LastEvaluatedKey) };
  }

  /** Messages from the peer after the read position, counted up to a cap (the badge shows "99+"). */
  async function countUnread(conversationId: string, userId: string, readUpTo: string | undefined, cap = 100): Promise<number> {
    const out = await doc.send(
      new QueryCommand({
        TableName: table(),
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        FilterExpression: 'senderId <> :me AND (attribute_not_exists(hiddenFrom) OR hiddenFrom <> :me) AND expiresAt > :now',
        ExpressionAttributeValues: {
          ':pk': `CONV#${conversationId}`,
          ':lo': readUpTo ? `MSG#${readUpTo}\u0000` : 'MSG#',
          ':hi': 'MSG#~',
          ':me': userId,
          ':now': Math.floor(clock.now() / 1000),
        },
        Select: 'COUNT',
        Limit: cap,
      }),
    );
    return out.Count ?? 0;
  }

  /** Everyone the user has taken part in a conversation with (for presence and key-change events). */
  const { partnersOf } = partnersIndex(db);

  /** Moves a read or delivered position forward only; false when it would not move. */
  async function advancePosition(conversationId: string, userId: string, field: 'readUpTo' | 'deliveredUpTo', messageId: string): Promise<boolean> {
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

  return { ensureConversation, getMember, getMessage, storeMessage, advancePosition, partnersOf, history, syncStream, inbox, countUnread };
}
