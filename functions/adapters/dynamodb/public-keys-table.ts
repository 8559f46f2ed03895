// The keys table holds users' PUBLIC keys only (signing secrets live in Secrets Manager): the
// current key set at USER#id / KEY#current and one history item per version at USER#id /
// KEY#v0000007. A new version is one transaction conditioned on the version it replaces, so two
// concurrent publishers can never both claim the same version.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { KeyRecord, PublicKeysPort } from '#core/ports.ts';
import type { Db } from './db.ts';

const VERSION_DIGITS = 7;
const userPk = (userId: string) => `USER#${userId}`;
export const currentKey = (userId: string) => ({ pk: userPk(userId), sk: 'KEY#current' });
export const historyKey = (userId: string, version: number) => ({ pk: userPk(userId), sk: `KEY#v${String(version).padStart(VERSION_DIGITS, '0')}` });

function toRecord(item: Record<string, unknown> | undefined): KeyRecord | undefined {
  if (!item) return undefined;
  const { userId, identityKey, publicKey, signature, version, fingerprint, updatedAt, identityChangedAt } = item as unknown as KeyRecord;
  return { userId, identityKey, publicKey, signature, version, fingerprint, updatedAt, ...(identityChangedAt ? { identityChangedAt } : {}) };
}

export function publicKeysTable(db: Db): PublicKeysPort {
  const { doc } = db;
  const tableName = (_: 'keys') => db.table('keys');
  return {
    /** Strongly consistent: after a keyChanged event, a client must not fetch the previous keys. */
    async getCurrent(userId: string): Promise<KeyRecord | undefined> {
      const out = await doc.send(new GetCommand({ TableName: tableName('keys'), Key: currentKey(userId), ConsistentRead: true }));
      return toRecord(out.Item);
    },

    /**
     * Writes `key` as the current version and as a history item, in one transaction. The current item
     * must still be at `previousVersion` (absent for the first publication); returns false when another
     * write got there first, and then nothing was written.
     */
    async put(key: KeyRecord, previousVersion: number | undefined, identityChanged: boolean): Promise<boolean> {
      const TableName = tableName('keys');
      const condition =
        previousVersion === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'version = :prev', ExpressionAttributeValues: { ':prev': previousVersion } };
      try {
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName, Item: { ...currentKey(key.userId), ...key }, ...condition } },
              {
                Put: { TableName, Item: { ...historyKey(key.userId, key.version), ...key, identityChanged }, ConditionExpression: 'attribute_not_exists(pk)' },
              },
            ],
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof TransactionCanceledException) return false;
        throw error;
      }
    },

    async deleteAll(userId: string): Promise<void> {
      const TableName = tableName('keys');
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `USER#${userId}` },
            ProjectionExpression: 'pk, sk',
            ExclusiveStartKey,
          }),
        );
        const keys = page.Items ?? [];
        for (let i = 0; i < keys.length; i += 25) {
          let RequestItems: Record<string, { DeleteRequest: { Key: Record<string, unknown> } }[]> | undefined = {
            [TableName]: keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })),
          };
          while (RequestItems && Object.keys(RequestItems).length) {
            const out = await doc.send(new BatchWriteCommand({ RequestItems }));
            RequestItems = out.UnprocessedItems as typeof RequestItems;
          }
        }
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    },
  };
}
