// Group reads for history and the inbox: a member reads only its own copies (VIEW#<member>#<ulid>),
// so a joiner has nothing from before it joined and a removed member nothing from after; membership
// (the MEMBER item) is checked beside the Query, so a former member gets the 404 of a stranger.
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Message } from '#contract/conversations/schemas.ts';
import type { Clock, GroupQueriesPort } from '#core/ports.ts';
import { batchGetAll } from './batch.ts';
import { stripKeys, type Db } from './db.ts';
import { convKey, memberKey } from './item-keys.ts';

export function groupQueries(db: Db, clock: Clock): GroupQueriesPort {
  const { doc } = db;
  const table = () => db.table('messages');

  return {
    async history(g, viewerId, before, limit) {
      const prefix = `VIEW#${viewerId}#`;
      const [member, out] = await Promise.all([
        doc.send(new GetCommand({ TableName: table(), Key: memberKey(g, viewerId), ConsistentRead: true, ProjectionExpression: 'pk' })),
        doc.send(
          new QueryCommand({
            TableName: table(),
            KeyConditionExpression: before ? 'pk = :pk AND sk BETWEEN :lo AND :hi' : 'pk = :pk AND begins_with(sk, :lo)',
            FilterExpression: 'expiresAt > :now',
            ExpressionAttributeValues: {
              ':pk': `CONV#${g}`,
              ':lo': prefix,
              ':now': Math.floor(clock.now() / 1000),
              // BETWEEN is inclusive: the largest key below `before`
              ...(before ? { ':hi': `${prefix}${before.slice(0, -1)}${String.fromCharCode(before.charCodeAt(before.length - 1) - 1)}~` } : {}),
            },
            ScanIndexForward: false,
            Limit: limit,
          }),
        ),
      ]);
      if (!member.Item) return undefined;
      const messages = (out.Items ?? []).map((i) => stripKeys<Message>(i, ['expiresAt']));
      const last = out.LastEvaluatedKey?.sk as string | undefined;
      return last ? { messages, before: last.slice(prefix.length) } : { messages };
    },

    async summaries(conversationIds, userId) {
      const t = table();
      const found = await batchGetAll(
        db,
        conversationIds.flatMap((g) => [
          { table: t, key: convKey(g, 'META'), consistent: true },
          { table: t, key: memberKey(g, userId), consistent: true },
        ]),
      );
      const items = found.get(t) ?? [];
      const members = new Set(items.filter((i) => i.sk === `MEMBER#${userId}`).map((i) => i.conversationId as string));
      const out = new Map<string, { name: string; memberCount: number }>();
      for (const i of items) {
        if (i.sk === 'META' && members.has(i.conversationId as string))
          out.set(i.conversationId as string, { name: i.name as string, memberCount: i.memberCount as number });
      }
      return out;
    },

    async countUnread(g, userId, readUpTo, cap = 100) {
      const out = await doc.send(
        new QueryCommand({
          TableName: table(),
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
          FilterExpression: 'senderId <> :me AND expiresAt > :now AND attribute_not_exists(#ev)',
          ExpressionAttributeNames: { '#ev': 'event' },
          ExpressionAttributeValues: {
            ':pk': `CONV#${g}`,
            ':lo': readUpTo ? `VIEW#${userId}#${readUpTo}\u0000` : `VIEW#${userId}#`,
            ':hi': `VIEW#${userId}#~`,
            ':me': userId,
            ':now': Math.floor(clock.now() / 1000),
          },
          Select: 'COUNT',
          Limit: cap,
        }),
      );
      return out.Count ?? 0;
    },
  };
}
