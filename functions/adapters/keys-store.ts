// Keys table (public keys only: USER#id / KEY#current, KEY#v0007). Identity needs only the
// cleanup on account deletion; the key directory adds its reads and writes here.
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { doc, tableName } from './dynamo.ts';

export async function deleteAllKeys(userId: string): Promise<void> {
  const TableName = tableName('keys');
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new QueryCommand({ TableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `USER#${userId}` }, ProjectionExpression: 'pk, sk', ExclusiveStartKey }),
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
}
