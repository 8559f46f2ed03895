// A group's META and current MEMBER# items in one strongly consistent Query (MEMBER#… sorts just
// before META), shared by the group store and the group send.
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { GroupMemberRecord, GroupMeta } from '#core/ports.ts';
import { stripKeys, type Db } from './db.ts';

export async function readRoster(db: Db, g: string): Promise<{ meta?: GroupMeta; members: GroupMemberRecord[] }> {
  const members: GroupMemberRecord[] = [];
  let meta: GroupMeta | undefined;
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const out = await db.doc.send(
      new QueryCommand({
        TableName: db.table('messages'),
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':pk': `CONV#${g}`, ':lo': 'MEMBER#', ':hi': 'META' },
        ConsistentRead: true,
        ExclusiveStartKey,
      }),
    );
    for (const item of out.Items ?? []) {
      if (item.sk === 'META') meta = stripKeys<GroupMeta>(item, ['kind']);
      else members.push(stripKeys<GroupMemberRecord>(item));
    }
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return meta ? { meta, members } : { members };
}
