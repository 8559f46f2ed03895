// Attachment items as more than one adapter reads and writes them: the attachments table's own adapter,
// and the sends (send-context.ts reads the records, the message stores write the shares).
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AttachmentRecord, AttachmentsPort, Clock } from '#core/ports.ts';
import type { Db } from './db.ts';
import { attachmentKey, shareKey } from './item-keys.ts';

export function toAttachment(item: Record<string, unknown>): AttachmentRecord {
  return {
    attachmentId: item.attachmentId as string,
    ownerId: item.ownerId as string,
    conversationId: item.conversationId as string,
    size: item.size as number,
    status: item.status as AttachmentRecord['status'],
    createdAt: item.createdAt as string,
    expiresAt: item.expiresAt as number,
    ...(typeof item.shares === 'number' ? { shares: item.shares } : {}),
  };
}

/**
 * What a send writes when its message shares attachments (one BatchWriteItem beside the message's):
 * each record re-put as shared (out of the pending index, living as long as the message, its share count
 * one up), and a share item naming the message. `records` are as the send read them.
 */
export function shareWrites(records: readonly AttachmentRecord[], conversationId: string, messageId: string, expiresAt: number) {
  return records.flatMap((r) => [
    { put: { ...attachmentKey(r.attachmentId), ...r, status: 'shared', expiresAt: Math.max(r.expiresAt, expiresAt), shares: (r.shares ?? 0) + 1 } },
    { put: { ...shareKey(r.attachmentId, messageId), conversationId, messageId, expiresAt } },
  ]);
}

/** Account deletion's one write about attachments: a marker the sweeper purges the account's blobs by. */
export const purgeKey = (userId: string) => ({ pk: 'PURGE', sk: `USER#${userId}` });
export function purgeRequests(db: Db, clock: Clock): Pick<AttachmentsPort, 'requestPurge'> {
  return {
    async requestPurge(userId) {
      await db.doc.send(
        new PutCommand({ TableName: db.table('attachments'), Item: { ...purgeKey(userId), userId, requestedAt: new Date(clock.now()).toISOString() } }),
      );
    },
  };
}
