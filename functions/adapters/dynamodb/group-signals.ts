// Typing and receipts in a group, and the group context of a report: the members (one strongly
// consistent Query), the caller's own copy of a message (a GetItem), the members' socket sets
// (BatchGetItems of 100 keys, in parallel). Its own module: the 1:1 paths import none of it.
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock, GroupMemberRecord, GroupMeta, GroupReportsPort, GroupSignalsPort, MessageRecord } from '#core/ports.ts';
import { batchGetAll } from './batch.ts';
import { stripKeys, type Db } from './db.ts';
import { convKey, memberKey, socketsKey, viewKey } from './item-keys.ts';

/** The MEMBER items of a group (paged, strongly consistent); `sk < META` leaves META out. */
async function membersOf(db: Db, g: string): Promise<GroupMemberRecord[]> {
  const members: GroupMemberRecord[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const out = await db.doc.send(
      new QueryCommand({
        TableName: db.table('messages'),
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :m)',
        ExpressionAttributeValues: { ':pk': `CONV#${g}`, ':m': 'MEMBER#' },
        ConsistentRead: true,
        ExclusiveStartKey,
      }),
    );
    for (const item of out.Items ?? []) members.push(stripKeys<GroupMemberRecord>(item));
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return members;
}

export function groupSignals(db: Db, clock: Clock): GroupSignalsPort & GroupReportsPort {
  const live = (item: Record<string, unknown> | undefined) => !!item && (item.expiresAt === undefined || (item.expiresAt as number) > clock.now() / 1000);

  return {
    async load({ conversationId, userId, messageId }) {
      const [members, copy] = await Promise.all([
        membersOf(db, conversationId),
        messageId
          ? db.doc.send(
              new GetCommand({
                TableName: db.table('messages'),
                Key: viewKey(conversationId, userId, messageId),
                ConsistentRead: true,
                ProjectionExpression: 'pk, expiresAt',
              }),
            )
          : undefined,
      ]);
      return { members, hasCopy: live(copy?.Item) };
    },

    async sockets(userIds) {
      const t = db.table('connections');
      const found = await batchGetAll(
        db,
        userIds.map((u) => ({ table: t, key: socketsKey(u), consistent: false })),
      );
      return new Map((found.get(t) ?? []).map((i) => [(i.pk as string).slice('USER#'.length), [...((i.ids as Set<string> | undefined) ?? [])]]));
    },

    async reportContext(g, reporterId, messageIds) {
      const t = db.table('messages');
      const found = await batchGetAll(db, [
        { table: t, key: convKey(g, 'META'), consistent: true },
        { table: t, key: memberKey(g, reporterId), consistent: true },
        ...messageIds.map((id) => ({ table: t, key: viewKey(g, reporterId, id), consistent: true })),
      ]);
      const items = found.get(t) ?? [];
      const meta = items.find((i) => i.sk === 'META');
      const views = new Map(items.filter((i) => (i.sk as string).startsWith('VIEW#') && live(i)).map((i) => [i.messageId as string, i]));
      return {
        meta: meta ? stripKeys<GroupMeta>(meta, ['kind']) : undefined,
        member: items.some((i) => i.sk === `MEMBER#${reporterId}`),
        copies: messageIds.map((id) => {
          const v = views.get(id);
          return v ? stripKeys<MessageRecord>(v, ['expiresAt']) : undefined;
        }),
      };
    },
  };
}
