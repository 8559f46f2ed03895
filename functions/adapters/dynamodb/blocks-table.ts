// Moderation table, blocks: USER#<blocker> / BLOCK#<blocked> plus the mirror USER#<blocked> /
// BLOCKEDBY#<blocker>, written together, so one Query gives everyone a user must not hear from or
// reach. (Reports and the audit log live in the same table: reports-table.ts.)
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { BlocksPort, Clock } from '#core/ports.ts';
import { cursors, decodeCursor, encodeCursor } from './cursor.ts';
import type { Db } from './db.ts';
import { blockKey } from './item-keys.ts';

export function blocksTable(db: Db, clock: Clock): BlocksPort {
  const { doc } = db;
  const table = () => db.table('moderation');

  async function block(blocker: string, blocked: string): Promise<{ blockedAt: string }> {
    const blockedAt = new Date(clock.now()).toISOString();
    try {
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: table(),
                Item: { ...blockKey(blocker, blocked), blockerId: blocker, blockedId: blocked, blockedAt },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: { TableName: table(), Item: { pk: `USER#${blocked}`, sk: `BLOCKEDBY#${blocker}`, blockerId: blocker, blockedId: blocked, blockedAt } } },
          ],
        }),
      );
      return { blockedAt };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException) || error.CancellationReasons?.[0]?.Code !== 'ConditionalCheckFailed') throw error;
      const existing = await doc.send(new GetCommand({ TableName: table(), Key: blockKey(blocker, blocked), ConsistentRead: true }));
      return { blockedAt: (existing.Item?.blockedAt as string) ?? blockedAt };
    }
  }

  async function unblock(blocker: string, blocked: string): Promise<void> {
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName: table(), Key: blockKey(blocker, blocked) } },
          { Delete: { TableName: table(), Key: { pk: `USER#${blocked}`, sk: `BLOCKEDBY#${blocker}` } } },
        ],
      }),
    );
  }

  /** [does a block b, does b block a] in one read. */
  async function blockPair(a: string, b: string): Promise<[boolean, boolean]> {
    if (a === b) return [false, false];
    const out = await doc.send(new BatchGetCommand({ RequestItems: { [table()]: { Keys: [blockKey(a, b), blockKey(b, a)], ConsistentRead: true } } }));
    const items = out.Responses?.[table()] ?? [];
    return [items.some((i) => i.sk === `BLOCK#${b}`), items.some((i) => i.sk === `BLOCK#${a}`)];
  }

  /** Everyone the user blocks or is blocked by: events between them are never delivered. */
  async function blockRelations(userId: string): Promise<Set<string>> {
    const ids = new Set<string>();
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(
        new QueryCommand({
          TableName: table(),
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :b)',
          ExpressionAttributeValues: { ':pk': `USER#${userId}`, ':b': 'BLOCK' },
          ExclusiveStartKey,
        }),
      );
      for (const i of page.Items ?? []) ids.add(i.sk.startsWith('BLOCKEDBY#') ? (i.blockerId as string) : (i.blockedId as string));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return ids;
  }

  async function listBlocked(blocker: string, limit: number, cursorText?: string) {
    const cursor = decodeCursor(cursorText, cursors.blocked(blocker));
    const out = await doc.send(
      new QueryCommand({
        TableName: table(),
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :b)',
        ExpressionAttributeValues: { ':pk': `USER#${blocker}`, ':b': 'BLOCK#' },
        Limit: limit,
        ...(cursor ? { ExclusiveStartKey: cursor } : {}),
      }),
    );
    return {
      items: (out.Items ?? []).map((i) => ({ userId: i.blockedId as string, blockedAt: i.blockedAt as string })),
      cursor: encodeCursor(out.LastEvaluatedKey),
    };
  }

  return { block, unblock, blockPair, blockRelations, listBlocked, blockersOf: (userId) => blockersOf(db, userId) };
}

/** Everyone who blocks the user: one Query of the BLOCKEDBY# mirror items (paged), keys only. */
export async function blockersOf(db: Db, userId: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.table('moderation'),
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :b)',
        ExpressionAttributeValues: { ':pk': `USER#${userId}`, ':b': 'BLOCKEDBY#' },
        ProjectionExpression: 'sk',
        ConsistentRead: true,
        ExclusiveStartKey,
      }),
    );
    for (const i of page.Items ?? []) ids.add((i.sk as string).slice('BLOCKEDBY#'.length));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return ids;
}
