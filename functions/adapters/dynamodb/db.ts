// The DynamoDB document client and the physical table names, built once per container by the
// composition root from the parsed Config. The endpoint points at DynamoDB Local when the config
// says so (laptop and tests); config refuses that setting inside Lambda.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Config } from '#core/config.ts';

export type TableId = keyof Config['tables'];

export interface Db {
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  /** Physical name of a table this function was granted; throws for any other. */
  table(id: TableId): string;
}

export function createDb(config: Pick<Config, 'region' | 'dynamodbEndpoint' | 'tables'>): Db {
  const client = new DynamoDBClient({
    region: config.region,
    ...(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : {}),
    maxAttempts: 3,
  });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return {
    client,
    doc,
    table(id) {
      const name = config.tables[id];
      if (!name) throw new Error(`table ${id} is not configured: this function has no grant on it`);
      return name;
    },
  };
}

/** A conditional write whose condition did not hold (not an error of the service). */
export function isConditionFailure(error: unknown): boolean {
  return (error as Error)?.name === 'ConditionalCheckFailedException';
}

/** Drops the key attributes of an item: what remains is the record. */
export function stripKeys<T>(item: Record<string, unknown>, extra: readonly string[] = []): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (k !== 'pk' && k !== 'sk' && k !== 'gsi1pk' && k !== 'gsi1sk' && !extra.includes(k)) out[k] = v;
  return out as T;
}

/**
 * Runs writes in parallel and waits for every one of them before reporting the first failure:
 * Promise.all would answer (and Lambda could freeze the sandbox) while the others are still in
 * flight, so a retry could find half of them not yet written.
 */
export async function writeAll(writes: readonly (Promise<unknown> | undefined)[]): Promise<void> {
  const results = await Promise.allSettled(writes);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Every item a Query matches, page after page (for bounded sets: one account's devices, one upload's shares). */
export async function queryAll(db: Db, input: Omit<QueryCommandInput, 'ExclusiveStartKey'>): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(new QueryCommand({ ...input, ExclusiveStartKey }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}
