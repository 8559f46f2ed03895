// Attachments (attachments table): ATT#<id> / META is the upload (owner, conversation, size, status),
// ATT#<id> / SHARE#<messageId> each message that shared it, QUOTA#<user> / DAY#<date> the bytes the
// user began uploading that day, PURGE / USER#<id> a deleted account whose blobs the sweeper removes.
// Indexes: byOwner (ownerId, createdAt) finds an account's uploads; pending (pendingHour, createdAt)
// holds only never-shared uploads (the attribute goes when shared), by the hour they began.
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { MAX_SHARES } from '#core/attachment-rules.ts';
import type { AttachmentShare, AttachmentsPort, Clock } from '#core/ports.ts';
import { batchGetAll, batchWriteAll } from './batch.ts';
import { isConditionFailure, queryAll as queryAllPages, type Db } from './db.ts';
import { purgeKey, purgeRequests, toAttachment } from './attachment-items.ts';
import { attachmentKey, convKey, memberKey, profileKey, viewKey } from './item-keys.ts';

const PURGE = 'PURGE';

export function attachmentsTable(db: Db, clock: Clock): AttachmentsPort {
  const table = () => db.table('attachments');
  const nowSeconds = () => Math.floor(clock.now() / 1000);

  const queryAll = (input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>) => queryAllPages(db, { ...input, TableName: table() });

  return {
    async isMember(conversationId, userId) {
      const found = await db.doc.send(new GetCommand({ TableName: db.table('messages'), Key: memberKey(conversationId, userId), ConsistentRead: true }));
      return found.Item !== undefined;
    },

    async chargeQuota(userId, day, bytes, quota) {
      // more than a whole day's quota (ATTACHMENT_MAX_BYTES set above it) never fits: refused uncharged
      if (bytes > quota) return false;
      try {
        await db.doc.send(
          new UpdateCommand({
            TableName: table(),
            Key: { pk: `QUOTA#${userId}`, sk: `DAY#${day}` },
            UpdateExpression: 'ADD bytes :b SET expiresAt = :t',
            ConditionExpression: 'attribute_not_exists(bytes) OR bytes <= :room',
            ExpressionAttributeValues: { ':b': bytes, ':room': quota - bytes, ':t': nowSeconds() + 2 * 86_400 },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async create(record) {
      await db.doc.send(
        new PutCommand({
          TableName: table(),
          Item: { ...attachmentKey(record.attachmentId), ...record, pendingHour: record.createdAt.slice(0, 13) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    },

    async get(attachmentId) {
      const found = await db.doc.send(new GetCommand({ TableName: table(), Key: attachmentKey(attachmentId), ConsistentRead: true }));
      return found.Item ? toAttachment(found.Item) : undefined;
    },

    async markUploaded(attachmentId, ownerId) {
      try {
        const out = await db.doc.send(
          new UpdateCommand({
            TableName: table(),
            Key: attachmentKey(attachmentId),
            UpdateExpression: 'SET #s = :u',
            ConditionExpression: 'ownerId = :o AND #s = :p',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':u': 'uploaded', ':o': ownerId, ':p': 'pending' },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return toAttachment(out.Attributes!);
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // completed already (a retry), or not this owner's
        const now = await this.get(attachmentId);
        return now && now.ownerId === ownerId ? now : undefined;
      }
    },

    async withShares(attachmentId) {
      // META and the first shares, one page: sends stop at MAX_SHARES (racing ones may pass it by a few)
      const page = await db.doc.send(
        new QueryCommand({
          TableName: table(),
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `ATT#${attachmentId}` },
          ConsistentRead: true,
          Limit: 1 + 2 * MAX_SHARES,
        }),
      );
      const items = page.Items ?? [];
      const meta = items.find((i) => i.sk === 'META');
      const now = nowSeconds();
      const shares = items
        .filter((i) => (i.sk as string).startsWith('SHARE#') && (i.expiresAt as number) > now)
        .map((i) => ({ conversationId: i.conversationId as string, messageId: i.messageId as string }));
      return { record: meta ? toAttachment(meta) : undefined, shares };
    },

    async canSee(userId, ownerId, shares: readonly AttachmentShare[]) {
      const messages = db.table('messages');
      const keys = [{ table: db.table('users'), key: profileKey(ownerId), consistent: true }]; // strongly: downloads stop the moment the owner is deleted
      for (const s of shares) {
        if (s.conversationId.startsWith('gr_')) {
          keys.push({ table: messages, key: viewKey(s.conversationId, userId, s.messageId), consistent: false });
          keys.push({ table: messages, key: memberKey(s.conversationId, userId), consistent: true });
        } else keys.push({ table: messages, key: convKey(s.conversationId, `MSG#${s.messageId}`), consistent: false });
      }
      const found = await batchGetAll(db, keys);
      if (!(found.get(db.table('users')) ?? []).length) return false;
      const items = found.get(messages) ?? [];
      const now = nowSeconds();
      const at = (pk: string, sk: string) => items.find((i) => i.pk === pk && i.sk === sk);
      return shares.some((s) => {
        if (s.conversationId.startsWith('gr_')) {
          const copy = at(`CONV#${s.conversationId}`, `VIEW#${userId}#${s.messageId}`);
          return copy !== undefined && !((copy.expiresAt as number) <= now) && at(`CONV#${s.conversationId}`, `MEMBER#${userId}`) !== undefined;
        }
        const m = at(`CONV#${s.conversationId}`, `MSG#${s.messageId}`);
        return m !== undefined && (m.expiresAt as number) > now && (m.senderId === userId || m.recipientId === userId) && m.hiddenFrom !== userId;
      });
    },

    ...purgeRequests(db, clock),

    async pendingInHour(hour) {
      const items = await queryAll({ IndexName: 'pending', KeyConditionExpression: 'pendingHour = :h', ExpressionAttributeValues: { ':h': hour } });
      return items.map(toAttachment);
    },

    async deleteUnshared(attachmentId) {
      try {
        await db.doc.send(new DeleteCommand({ TableName: table(), Key: attachmentKey(attachmentId), ConditionExpression: 'attribute_exists(pendingHour)' }));
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async purgeRequests() {
      const items = await queryAll({ KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': PURGE } });
      return items.map((i) => ({ userId: i.userId as string, requestedAt: i.requestedAt as string }));
    },

    async completePurge(userId, done) {
      const owned = await queryAll({
        IndexName: 'byOwner',
        KeyConditionExpression: 'ownerId = :o',
        ExpressionAttributeValues: { ':o': userId },
        ProjectionExpression: 'pk',
      });
      // each upload's META and shares (a shared one has a few); the marker last, so a crash is retried
      const keys: { pk: string; sk: string }[] = [];
      for (const { pk } of owned) {
        const rows = await queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ProjectionExpression: 'pk, sk' });
        for (const r of rows) keys.push({ pk: r.pk as string, sk: r.sk as string });
      }
      await batchWriteAll(db, table(), [...keys.map((k) => ({ delete: k })), ...(done ? [{ delete: purgeKey(userId) }] : [])]);
      return owned.length;
    },
  };
}
