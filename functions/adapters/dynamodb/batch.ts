// Batched reads and writes of any size: BatchGetItem in calls of at most 100 keys and
// BatchWriteItem in calls of at most 25 items, all calls in parallel (one round trip), unprocessed
// keys and items retried with backoff. The 1:1 send's reads and writes fit one call each.
import { BatchGetCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ServiceUnavailable } from '#core/errors.ts';
import { writeAll, type Db } from './db.ts';

type Key = Record<string, unknown>;
type Item = Record<string, unknown>;

const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.min(1000, 2 ** attempt * 10) * Math.random()));

/** One BatchGetItem per 100 keys (keys of several tables mixed), in parallel; found items by table. */
export async function batchGetAll(db: Db, keys: readonly { table: string; key: Key; consistent: boolean }[]): Promise<Map<string, Item[]>> {
  const found = new Map<string, Item[]>();
  const chunks: (typeof keys)[] = [];
  for (let i = 0; i < keys.length; i += 100) chunks.push(keys.slice(i, i + 100));
  await Promise.all(
    chunks.map(async (chunk) => {
      let pending: Record<string, { Keys: Key[]; ConsistentRead: boolean }> | undefined = {};
      for (const k of chunk) (pending[k.table] ??= { Keys: [], ConsistentRead: k.consistent }).Keys.push(k.key);
      for (let attempt = 0; pending && Object.keys(pending).length; attempt++) {
        if (attempt > 8) throw new ServiceUnavailable('Throttled; retry', 'throttled');
        if (attempt > 0) await backoff(attempt);
        const out = await db.doc.send(new BatchGetCommand({ RequestItems: pending }));
        for (const [table, items] of Object.entries(out.Responses ?? {})) found.set(table, [...(found.get(table) ?? []), ...items]);
        pending = out.UnprocessedKeys as typeof pending;
      }
    }),
  );
  return found;
}

/** Unconditional puts and deletes of one table, 25 per BatchWriteItem, all calls in parallel; waits for every call. */
export async function batchWriteAll(db: Db, table: string, writes: readonly ({ put: Item } | { delete: Key })[]): Promise<void> {
  const requests = writes.map((w) => ('put' in w ? { PutRequest: { Item: w.put } } : { DeleteRequest: { Key: w.delete } }));
  const chunks: (typeof requests)[] = [];
  for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));
  await writeAll(
    chunks.map(async (chunk) => {
      let pending = chunk;
      for (let attempt = 0; pending.length; attempt++) {
        if (attempt > 8) throw new ServiceUnavailable('Throttled; retry', 'throttled');
        if (attempt > 0) await backoff(attempt);
        const out = await db.doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
        pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
      }
    }),
  );
}
