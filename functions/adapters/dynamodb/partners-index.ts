// Who a user has taken part in a conversation with: a Query on the messages table's byMember index
// (member items the user engaged in), latest activity first, stopping at a limit when given. Apart
// from the rest of the messages table so that routes that only tell partners something (key
// changes, presence) do not bundle the whole message store.
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ConversationsPort } from '#core/ports.ts';
import type { Db } from './db.ts';

export function partnersIndex(db: Db): Pick<ConversationsPort, 'partnersOf'> {
  return {
    async partnersOf(userId, limit) {
      const peers: string[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await db.doc.send(
          new QueryCommand({
            TableName: db.table('messages'),
            IndexName: 'byMember',
            KeyConditionExpression: 'gsi1pk = :inbox',
            FilterExpression: 'attribute_exists(engagedAt)',
            ExpressionAttributeValues: { ':inbox': `INBOX#${userId}` },
            ProjectionExpression: 'peerId',
            // the index sorts by last activity: newest first, and no further than needed
            ScanIndexForward: false,
            ...(limit !== undefined ? { Limit: limit } : {}),
            ExclusiveStartKey,
          }),
        );
        for (const i of page.Items ?? []) peers.push(i.peerId as string);
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey && (limit === undefined || peers.length < limit));
      return limit === undefined ? peers : peers.slice(0, limit);
    },
  };
}
