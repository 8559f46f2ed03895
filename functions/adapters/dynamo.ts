// The one DynamoDB DocumentClient, created at module scope. Its endpoint points at DynamoDB Local
// when DYNAMODB_ENDPOINT is set (laptop and tests); config refuses that setting inside Lambda.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config } from '#core/config.ts';
import { tableDefinition, type TableId } from '#lib/tables.ts';

export const dynamo = new DynamoDBClient({
  region: config.region,
  ...(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : {}),
  maxAttempts: 3,
});

export const doc = DynamoDBDocumentClient.from(dynamo, {
  marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
});

/** Physical name of a table, from the env var the stack (or local runtime) sets for granted tables. */
export function tableName(id: TableId): string {
  const def = tableDefinition(id);
  const name = process.env[def.envVar];
  if (!name) throw new Error(`${def.envVar} is not set: this function has no grant on table ${id}`);
  return name;
}

/** A conditional write whose condition did not hold (not an error of the service). */
export function isConditionFailure(error: unknown): boolean {
  return (error as Error)?.name === 'ConditionalCheckFailedException';
}
