// Who a user has taken part in a conversation with: a Query on the messages table's byMember index
// (member items the user engaged in), latest activity first, stopping at a limit when given; for
// presence, also the current members of the user's latest groups (one Query each, a bounded number). Apart
// from the rest of the messages table so that routes that only tell partners something (key
// changes, presence) do not bundle the whole message store.
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { PartnersPort } from '#core/ports.ts';
import type { Db } from './db.ts';

export function partnersIndex(db: Db): PartnersPort {
  return {
    async partnersOf(userId, limit, groups = 0) {
      const peers: string[] = [];
      const groupIds: string[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await db.doc.send(
          new QueryCommand({
            TableName: db.table('messages'),
            IndexName: 'byMember',
            KeyConditionExpression: 'gsi1pk = :inbox',
            // direct conversations the user engaged in; group entries too when their co-members count
            FilterExpression: groups > 0 ? 'attribute_exists(engagedAt) OR begins_with(conversationId, :group)' : 'attribute_exists(engagedAt)',
            ExpressionAttributeValues: { ':inbox': `INBOX#${userId}`, ...(groups > 0 ? { ':group': 'gr_' } : {}) },
            ProjectionExpression: 'peerId, conversationId',
            // the index sorts by last activity: newest first, and no further than needed
            ScanIndexForward: false,
            ...(limit !== undefined ? { Limit: limit } : {}),
            ExclusiveStartKey,
          }),
        );
        for (const i of page.Items ?? []) {
          const conversationId = i.conversationId as string | undefined;
          if (conversationId?.startsWith('gr_')) {
            if (groupIds.length < groups) groupIds.push(conversationId);
          } else if (i.peerId) peers.push(i.peerId as string);
        }
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey && (limit === undefined || peers.length < limit));
      // the current members of those groups: one Query of their MEMBER# items each, in parallel
      const rosters = await Promise.all(
        groupIds.map(async (g) => {
          const out = await db.doc.send(
            new QueryCommand({
              TableName: db.table('messages'),
              KeyConditionExpression: 'pk = :pk AND begins_with(sk, :member)',
              ExpressionAttributeValues: { ':pk': `CONV#${g}`, ':member': 'MEMBER#' },
              ProjectionExpression: 'sk',
            }),
          );
          return (out.Items ?? []).map((i) => (i.sk as string).slice('MEMBER#'.length));
        }),
      );
      // a group the user has left (or was removed from) may still list an old inbox entry: not a partner there
      const current = rosters.filter((members) => members.includes(userId));
      const all = [...new Set([...peers, ...current.flat()])].filter((p) => p !== userId);
      return limit === undefined ? all : all.slice(0, limit);
    },
  };
}
