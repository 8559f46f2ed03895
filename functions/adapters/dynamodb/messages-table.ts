// Messages table. Per conversation: META, one MEMBER#<user> item per member (GSI byMember keyed
// INBOX#<user> / <last activity>#<conversation> for the inbox; rewritten whole by every send), one
// POS#<user> item of read and delivered positions, MSG#<ulid> items and CMID#<sender>#<id>
// idempotency records (holding the whole message). Per user: a delivery queue QUEUE#<user> / MSG#<ulid>
// of copies of the messages delivered to them, read by sync. No counters: sends never contend.
// The writes and point reads; the listing reads (history, sync, inbox, unread) are message-queries.ts.
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { ServiceUnavailable } from '#core/errors.ts';
import { messageRecord, publicMessage, SYNC_SETTLE_SECONDS } from '#core/message-rules.ts';
import type { Clock, MemberView, MessageRecord, MessageStorePort, SendRequest, StoredSend } from '#core/ports.ts';
import { shareWrites } from './attachment-items.ts';
import { batchWriteAll } from './batch.ts';
import { isConditionFailure, stripKeys, writeAll, type Db } from './db.ts';
import { convKey, memberKey, positionsKey } from './item-keys.ts';

const newUlid = monotonicFactory();
const strip = <T>(item: Record<string, unknown>): T => stripKeys<T>(item, ['expiresAt']);

export function messagesTable(db: Db, clock: Clock): MessageStorePort {
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

  /** The idempotency record: the whole message, so that a retry can finish what a crashed attempt began. */
  const cmidKey = (req: Pick<SendRequest, 'conversationId' | 'senderId' | 'clientMessageId'>) =>
    convKey(req.conversationId, `CMID#${req.senderId}#${req.clientMessageId}`);
  const queueKey = (userId: string, entryId: string) => ({ pk: `QUEUE#${userId}`, sk: `MSG#${entryId}` });

  /** The message of an idempotency record (records written before the queue hold only its id). */
  async function recordedMessage(item: Record<string, unknown>, conversationId: string): Promise<MessageRecord | undefined> {
    if (item.message) return item.message as MessageRecord;
    return getMessage(conversationId, item.messageId as string);
  }

  /**
   * Inbox entries move forward only: the condition keeps the newest message when sends in one
   * conversation land out of order, and makes a retry's repair a no-op where the first attempt wrote.
   * An upsert: a member item missing (a conversation opened while the recipient blocked the sender)
   * appears with the first delivered message. The sender's side is marked engaged: only conversations
   * a user took part in make their presence and key changes visible to the other side.
   */
  async function touchInbox(message: MessageRecord, userId: string, peerId: string): Promise<void> {
    try {
      await doc.send(
        new UpdateCommand({
          TableName: table(),
          Key: memberKey(message.conversationId, userId),
          UpdateExpression:
            'SET gsi1pk = :inbox, gsi1sk = :act, conversationId = :c, userId = :u, peerId = :p, createdAt = if_not_exists(createdAt, :at), lastMessageId = :m, lastMessageAt = :at, lastSenderId = :s' +
            (userId === message.senderId ? ', engagedAt = if_not_exists(engagedAt, :at)' : ''),
          ConditionExpression: 'attribute_not_exists(lastMessageId) OR lastMessageId < :m',
          ExpressionAttributeValues: {
            ':inbox': `INBOX#${userId}`,
            ':act': `${message.sentAt}#${message.conversationId}`,
            ':c': message.conversationId,
            ':u': userId,
            ':p': peerId,
            ':m': message.messageId,
            ':at': message.sentAt,
            ':s': message.senderId,
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // a newer message is already there. (If it won the race against the sender's very first message,
      // the sender's engagement is recorded by its next one.)
    }
  }

  /** Unconditional puts of this table in one BatchWriteItem (batch.ts: unprocessed items retried with backoff). */
  const batchPutAll = (items: Record<string, unknown>[]) =>
    batchWriteAll(
      db,
      table(),
      items.map((put) => ({ put })),
    );

  const queueItem = (message: MessageRecord, entryId: string, expiresAt: number) => ({
    ...queueKey(message.recipientId, entryId),
    ...publicMessage(message),
    expiresAt,
  });

  async function putIfAbsent(Item: Record<string, unknown>): Promise<boolean> {
    try {
      await doc.send(new PutCommand({ TableName: table(), Item, ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * A retry (or a concurrent copy) found the idempotency record: writes whatever the first attempt may
   * have left out, never twice. The message and a young queue entry go under their own keys, only if
   * absent (an entry the recipient already synced is still there until it expires, so it is not
   * queued again). An entry whose id is older than the settle horizon may be behind a cursor already:
   * if it is missing, one repair (claimed on the idempotency record) queues it under a fresh id.
   */
  async function repair(message: MessageRecord, expiresAt: number, hidden: boolean): Promise<void> {
    const queueEntry = async () => {
      if (hidden) return;
      const age = clock.now() - Date.parse(message.sentAt);
      if (age < SYNC_SETTLE_SECONDS * 1000) {
        await putIfAbsent(queueItem(message, message.messageId, expiresAt));
        return;
      }
      const found = await doc.send(new GetCommand({ TableName: table(), Key: queueKey(message.recipientId, message.messageId), ConsistentRead: true }));
      if (found.Item) return;
      const entryId = newUlid(clock.now());
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table(),
            Key: cmidKey(message),
            UpdateExpression: 'SET requeuedAs = :e',
            ConditionExpression: 'attribute_not_exists(requeuedAs)',
            ExpressionAttributeValues: { ':e': entryId },
          }),
        );
      } catch (error) {
        if (isConditionFailure(error)) return;
        throw error;
      }
      await putIfAbsent(queueItem(message, entryId, expiresAt));
    };
    await writeAll([
      putIfAbsent({ ...convKey(message.conversationId, `MSG#${message.messageId}`), ...message, expiresAt }),
      queueEntry(),
      touchInbox(message, message.senderId, message.recipientId),
      hidden ? undefined : touchInbox(message, message.recipientId, message.senderId),
    ]);
  }

  /**
   * A member item as a send rewrites it: the inbox entry (byMember index) moved to this message, the
   * other fields as the send read them. The sender's side is marked engaged: only conversations a user
   * took part in make their presence and key changes visible to the other side. Read positions live in
   * their own items (advancePosition), so this unconditional put cannot undo a receipt.
   */
  function memberItem(message: MessageRecord, read: MemberView | undefined, userId: string, peerId: string, createdAt: string) {
    const { lastMessageId: _m, lastMessageAt: _a, lastSenderId: _s, ...kept } = read ?? ({} as Partial<MemberView>);
    const isSender = userId === message.senderId;
    return {
      ...kept,
      ...memberKey(message.conversationId, userId),
      conversationId: message.conversationId,
      userId,
      peerId,
      createdAt: read?.createdAt ?? createdAt,
      gsi1pk: `INBOX#${userId}`,
      gsi1sk: `${message.sentAt}#${message.conversationId}`,
      lastMessageId: message.messageId,
      lastMessageAt: message.sentAt,
      lastSenderId: message.senderId,
      ...(isSender ? { engagedAt: read?.engagedAt ?? message.sentAt } : {}),
    };
  }

  /**
   * The attachments a message shares, recorded as shared by it (attachments table), in the same round as the message.
   * Only those the stored message names: a retry naming other uploads must not attach them to the first message.
   */
  const share = (req: SendRequest, message: MessageRecord, expiresAt: number) => {
    const named = req.attachments?.filter((a) => message.attachmentIds?.includes(a.attachmentId));
    return named?.length ? batchWriteAll(db, db.table('attachments'), shareWrites(named, req.conversationId, message.messageId, expiresAt)) : undefined;
  };

  /**
   * Stores a message once per (sender, clientMessageId), with no counter and so no contention:
   * 1. a conditional PutItem of the idempotency record, holding the whole message;
   * 2. one BatchWriteItem: the message in its conversation, a copy in the recipient's delivery queue,
   *    and both member items (the inbox entries) as the send read them, moved to this message.
   * A member item that already shows a newer message (read in the send's first round) is left alone;
   * two sends landing between one's read and its write may leave the older one as the inbox's last
   * message until the next (history, unread counts and sync are exact). A copy that loses step 1 to an
   * earlier or concurrent one gets that one's message back and completes what may be missing (repair)
   * before acking, so an ack always means stored.
   */
  async function storeMessage(req: SendRequest, onRecorded?: (message: MessageRecord) => void): Promise<StoredSend> {
    const now = clock.now();
    const message = messageRecord(req, newUlid(now), now);
    const expiresAt = Math.floor(now / 1000) + req.retentionSeconds;
    const hidden = Boolean(req.hiddenFrom);
    try {
      await doc.send(
        new PutCommand({
          TableName: table(),
          Item: { ...cmidKey(req), messageId: message.messageId, message, expiresAt },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // the rare path (a retry or a concurrent copy) reads the record rather than bundling an unmarshaller
      const item = (await doc.send(new GetCommand({ TableName: table(), Key: cmidKey(req), ConsistentRead: true }))).Item;
      const first = item && (await recordedMessage(item, req.conversationId));
      if (!first) throw new ServiceUnavailable('Being stored; retry with the same clientMessageId', 'busy');
      const firstExpiresAt = (item.expiresAt as number) ?? expiresAt;
      await writeAll([repair(first, firstExpiresAt, Boolean(first.hiddenFrom)), share(req, first, firstExpiresAt)]);
      return { message: first, duplicate: true };
    }
    onRecorded?.(message);
    const { sender, recipient } = req.members;
    const newer = (m: MemberView | undefined) => m?.lastMessageId !== undefined && m.lastMessageId > message.messageId;
    await writeAll([
      batchPutAll([
        { ...convKey(req.conversationId, `MSG#${message.messageId}`), ...message, expiresAt },
        ...(hidden ? [] : [queueItem(message, message.messageId, expiresAt)]),
        ...(newer(sender) ? [] : [memberItem(message, sender, req.senderId, req.recipientId, sender.createdAt)]),
        ...(hidden || newer(recipient) ? [] : [memberItem(message, recipient, req.recipientId, req.senderId, sender.createdAt)]),
      ]),
      share(req, message, expiresAt),
    ]);
    return { message, duplicate: false };
  }

  /**
   * Moves a read or delivered position forward only; false when it would not move. Positions have their
   * own item (CONV#c / POS#u): sends rewrite the member item whole, which must never undo a receipt.
   */
  async function advancePosition(conversationId: string, userId: string, field: 'readUpTo' | 'deliveredUpTo', messageId: string): Promise<boolean> {
    try {
      await doc.send(
        new UpdateCommand({
          TableName: table(),
          Key: positionsKey(conversationId, userId),
          UpdateExpression: 'SET #f = :m, conversationId = :c, userId = :u',
          ConditionExpression: 'attribute_not_exists(#f) OR #f < :m',
          ExpressionAttributeNames: { '#f': field },
          ExpressionAttributeValues: { ':m': messageId, ':c': conversationId, ':u': userId },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  return { ensureConversation, getMember, getMessage, storeMessage, advancePosition };
}
