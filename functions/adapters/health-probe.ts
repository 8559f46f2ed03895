// The DynamoDB reachability probe: one GetItem on a key that never exists (cheapest possible read).
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { doc, tableName } from './dynamo.ts';

export async function probeDynamo(): Promise<void> {
  await doc.send(new GetCommand({ TableName: tableName('ephemeral'), Key: { pk: 'HEALTH#probe', sk: 'HEALTH#probe' } }));
}
