// A group send's DynamoDB work, in rounds whose number does not grow with the group:
// (1) one strongly consistent Query of the group's META and MEMBER items, one BatchGetItem of the
//     session family and the caller, one Query of who blocks the sender (beside the per-user limit);
// (2) BatchGetItems of the members' current key items and socket sets, 100 keys a call, in parallel;
// (3) the idempotency record's conditional PutItem (CONV#g / CMID#<sender>#<id>, as 1:1);
// (4) BatchWriteItems of 25, in parallel: per copy a history item (VIEW#<member>#<ulid>, holding only
//     that member's wrapped key), a delivery-queue entry (not the sender's) and the inbox entry.
// A retry re-puts what a crashed first attempt left out; past the settle horizon, missing queue entries
// go under one fresh id, claimed once on the idempotency record (as the 1:1 repair does).
// Its own module: the 1:1 send path (send-context.ts, messages-table.ts) imports none of it.
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { ServiceUnavailable } from '#core/errors.ts';
import { SYNC_SETTLE_SECONDS } from '#core/message-rules.ts';
import type { Clock, FamilyRecord, GroupSendPort, GroupSendRequest, MessageRecord, UserRecord } from '#core/ports.ts';
import { shareWrites, toAttachment } from './attachment-items.ts';
import { batchGetAll, batchWriteAll } from './batch.ts';
import { readRoster } from './group-roster.ts';
import { blockersOf } from './blocks-table.ts';
import { isConditionFailure, stripKeys, type Db } from './db.ts';
import { attachmentKey, convKey, entryKey, familyKey, profileKey, publicKeyKey, queueKey, socketsKey, viewKey } from './item-keys.ts';

const newUlid = monotonicFactory();

export function groupSendStore(db: Db, clock: Clock): GroupSendPort {
  const { doc } = db;
  const messages = () => db.table('messages');
  const cmidKey = (g: string, sender: string, clientMessageId: string) => convKey(g, `CMID#${sender}#${clientMessageId}`);

  const roster = (g: string) => readRoster(db, g);
  /** The attachments the message shares, recorded as shared by it, beside the copies' writes: only those it names (not a retry's others). */
  const share = (req: GroupSendRequest, message: { messageId: string; attachmentIds?: readonly string[] }, expiresAt: number) => {
    const named = req.attachments?.filter((a) => message.attachmentIds?.includes(a.attachmentId));
    return named?.length ? batchWriteAll(db, db.table('attachments'), shareWrites(named, req.conversationId, message.messageId, expiresAt)) : undefined;
  };

  /** The copy of the message one member reads: its own wrapped key only. */
  function copyOf(base: Omit<MessageRecord, 'recipientId' | 'recipientKeyVersion'>, copy: GroupSendRequest['copies'][number]): MessageRecord {
    return { ...base, recipientId: copy.userId, recipientKeyVersion: copy.key.keyVersion, key: copy.key };
  }

  /** `entryIdFor`: the id of a member's queue entry (the message's own id on a first attempt), or none to write. */
  async function writeCopies(
    req: GroupSendRequest,
    base: Omit<MessageRecord, 'recipientId' | 'recipientKeyVersion'>,
    expiresAt: number,
    entryIdFor: (userId: string) => string | undefined = () => base.messageId,
  ) {
    const copies = req.copies.map((c) => copyOf(base, c));
    await batchWriteAll(
      db,
      messages(),
      req.copies.flatMap((c, i) => {
        const copy = copies[i]!;
        return [
          { put: { ...viewKey(req.conversationId, c.userId, base.messageId), ...copy, expiresAt } },
          ...(c.userId === req.senderId || !entryIdFor(c.userId) ? [] : [{ put: { ...queueKey(c.userId, entryIdFor(c.userId)!), ...copy, expiresAt } }]),
          {
            put: {
              ...entryKey(req.conversationId, c.userId),
              conversationId: req.conversationId,
              userId: c.userId,
              kind: 'group',
              createdAt: c.joinedAt,
              gsi1pk: `INBOX#${c.userId}`,
              gsi1sk: `${base.sentAt}#${req.conversationId}`,
              lastMessageId: base.messageId,
              lastMessageAt: base.sentAt,
              lastSenderId: base.senderId,
            },
          },
        ];
      }),
    );
    return copies;
  }

  /**
   * A retry after the settle horizon (30 s): a queue entry the crashed first attempt left unwritten may
   * now be behind a device's sync cursor, so re-putting it under the message's id would never reach that
   * device. As in the 1:1 repair (messages-table.ts), the missing entries (one strongly consistent
   * BatchGetItem per 100 members) are queued under one fresh id, claimed once on the idempotency record
   * (`requeuedAs`): a later retry, or a concurrent one that lost the claim, queues nothing. Entries that
   * exist (a member may have synced them already) are left alone. Returns member → fresh entry id.
   */
  async function lateEntries(req: GroupSendRequest, first: { messageId: string }, cmid: Record<string, string>): Promise<Map<string, string>> {
    const t = messages();
    const others = req.copies.map((c) => c.userId).filter((u) => u !== req.senderId);
    const found = await batchGetAll(
      db,
      others.map((u) => ({ table: t, key: queueKey(u, first.messageId), consistent: true })),
    );
    const present = new Set((found.get(t) ?? []).map((i) => (i.pk as string).slice('QUEUE#'.length)));
    const missing = others.filter((u) => !present.has(u));
    if (!missing.length) return new Map();
    const entryId = newUlid(clock.now());
    try {
      await doc.send(
        new UpdateCommand({
          TableName: t,
          Key: cmid,
          UpdateExpression: 'SET requeuedAs = :e',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(requeuedAs)',
          ExpressionAttributeValues: { ':e': entryId },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return new Map();
      throw error;
    }
    return new Map(missing.map((u) => [u, entryId]));
  }

  return {
    async load({ senderId, conversationId, sessionId, attachmentIds = [] }) {
      const users = db.table('users');
      const sessions = sessionId ? db.table('sessions') : undefined;
      const attachments = attachmentIds.length ? db.table('attachments') : undefined;
      const [group, found, blockers] = await Promise.all([
        roster(conversationId),
        batchGetAll(db, [
          { table: users, key: profileKey(senderId), consistent: true },
          ...(sessions && sessionId ? [{ table: sessions, key: familyKey(sessionId), consistent: true }] : []),
          ...(attachments ? attachmentIds.map((id) => ({ table: attachments, key: attachmentKey(id), consistent: true })) : []),
        ]),
        blockersOf(db, senderId),
      ]);
      const caller = found.get(users)?.[0];
      const family = sessions ? found.get(sessions)?.[0] : undefined;
      return {
        caller: caller ? stripKeys<UserRecord>(caller) : undefined,
        family: family ? stripKeys<FamilyRecord>(family) : undefined,
        meta: group.meta,
        members: group.members,
        blockers,
        attachments: new Map((attachments ? (found.get(attachments) ?? []) : []).map((i) => [i.attachmentId as string, toAttachment(i)])),
      };
    },

    async recipients(userIds) {
      const keys = db.table('keys');
      const connections = db.table('connections');
      const found = await batchGetAll(db, [
        ...userIds.map((u) => ({ table: keys, key: publicKeyKey(u), consistent: true })),
        ...userIds.map((u) => ({ table: connections, key: socketsKey(u), consistent: false })),
      ]);
      const keyVersions = new Map((found.get(keys) ?? []).map((i) => [i.userId as string, i.version as number]));
      const sockets = new Map((found.get(connections) ?? []).map((i) => [(i.pk as string).slice('USER#'.length), [...((i.ids as Set<string>) ?? [])]]));
      return { keyVersions, sockets };
    },

    async store(req) {
      const now = clock.now();
      const expiresAt = Math.floor(now / 1000) + req.retentionSeconds;
      const base = {
        conversationId: req.conversationId,
        messageId: newUlid(now),
        clientMessageId: req.clientMessageId,
        senderId: req.senderId,
        ciphertext: req.ciphertext,
        nonce: req.nonce,
        senderKeyVersion: req.senderKeyVersion,
        sentAt: new Date(now).toISOString(),
        ...(req.attachments?.length ? { attachmentIds: req.attachments.map((a) => a.attachmentId) } : {}),
      };
      const key = cmidKey(req.conversationId, req.senderId, req.clientMessageId);
      let copies: MessageRecord[] | undefined;
      try {
        await doc.send(
          new PutCommand({
            TableName: messages(),
            Item: { ...key, messageId: base.messageId, group: base, copies: req.copies, expiresAt },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const item = (await doc.send(new GetCommand({ TableName: messages(), Key: key, ConsistentRead: true }))).Item;
        if (!item?.group) throw new ServiceUnavailable('Being stored; retry with the same clientMessageId', 'busy');
        const first = item.group as typeof base;
        const firstReq = { ...req, copies: item.copies as GroupSendRequest['copies'] };
        // a retry completes what a crashed first attempt may have left unwritten: the same items under the same keys,
        // except queue entries missing after the settle horizon, which go under a fresh id (lateEntries)
        const fresh = now - Date.parse(first.sentAt) >= SYNC_SETTLE_SECONDS * 1000 && (await lateEntries(firstReq, first, key));
        const [written] = await Promise.all([
          writeCopies(firstReq, first, item.expiresAt as number, fresh ? (u) => fresh.get(u) : undefined),
          share(req, first, item.expiresAt as number),
        ]);
        copies = written;
      }
      const duplicate = !!copies;
      if (!copies) [copies] = await Promise.all([writeCopies(req, base, expiresAt), share(req, base, expiresAt)]);
      return { message: copies.find((c) => c.recipientId === req.senderId) ?? copies[0]!, copies, duplicate };
    },
  };
}
