// SDK middleware for benchmarks: counts and times every call an AWS SDK v3 client makes and, when
// asked, has DynamoDB return ConsumedCapacity and sums it, so a benchmark can say what one user
// action costs without touching the handlers. Attach once, to the client the handlers share.

/** DynamoDB operations that accept ReturnConsumedCapacity. */
const CAPACITY_OPS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);
const READ_OPS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

/** True for operations billed in read units ("GetItem", also "GetItem (failed)"). */
export const isReadOp = (op: string): boolean => READ_OPS.has(op.replace(/ \(failed\)$/, ''));

export interface OpTally {
  calls: number;
  /** Summed wall time of the calls, SDK serialisation and signing included. */
  ms: number;
  /** Units as DynamoDB (Local) reported them. */
  readUnits: number;
  writeUnits: number;
  /** Of those units, the ones spent on global secondary indexes. */
  gsiReadUnits: number;
  gsiWriteUnits: number;
  /**
   * Write units by DynamoDB's published rules: as reported, except TransactWriteItems, whose table part
   * is recomputed from item sizes (2 units per started KB of each item) because DynamoDB Local
   * under-counts multi-item transactions; its GSI part is kept as reported.
   */
  ruleWriteUnits: number;
  /** Calls that reported no ConsumedCapacity (DynamoDB Local sends none with an error). */
  unreported: number;
  /** DynamoDB's rules applied to failed writes (a failed condition, a cancelled transaction). */
  estimatedWriteUnits: number;
}

/** Looks up the stored size of an item (bytes), for write units of updates in transactions. */
export type ItemSizeLookup = (tableName: string, key: Record<string, unknown>) => Promise<number>;

interface Capacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}

interface MiddlewareClient {
  middlewareStack: { add(middleware: any, options: { step: 'initialize'; name: string; priority: 'high' }): void };
}

const emptyTally = (): OpTally => ({
  calls: 0,
  ms: 0,
  readUnits: 0,
  writeUnits: 0,
  gsiReadUnits: 0,
  gsiWriteUnits: 0,
  ruleWriteUnits: 0,
  unreported: 0,
  estimatedWriteUnits: 0,
});

/**
 * DynamoDB's item size: attribute name bytes plus value bytes (strings UTF-8, numbers about one
 * byte per two digits plus one, 3 bytes of overhead per list or map plus one per element).
 */
export function itemBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint') return Math.ceil(String(value).replace(/[-.]/g, '').length / 2) + 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value) || value instanceof Set) return 3 + [...value].reduce((n: number, v) => n + itemBytes(v) + 1, 0);
  return 3 + Object.entries(value as Record<string, unknown>).reduce((n, [k, v]) => n + Buffer.byteLength(k) + itemBytes(v) + 1, 0);
}

interface TransactAction {
  TableName?: string;
  Item?: Record<string, unknown>;
  Key?: Record<string, unknown>;
}

/**
 * What a TransactWriteItems request costs on the table by DynamoDB's rules: 2 units per started KB
 * of each item (a Put's item as sent; for other actions the item as stored, looked up).
 */
async function transactTableUnits(input: { TransactItems?: Record<string, TransactAction>[] }, sizeOf?: ItemSizeLookup): Promise<number> {
  let units = 0;
  for (const action of input.TransactItems ?? []) {
    const body = Object.values(action)[0];
    if (!body) continue;
    const bytes = body.Item ? itemBytes(body.Item) : sizeOf && body.TableName && body.Key ? await sizeOf(body.TableName, body.Key) : 0;
    units += 2 * Math.max(1, Math.ceil(bytes / 1024));
  }
  return units;
}

/**
 * What a failed write would cost by DynamoDB's rules: a failed conditional PutItem, UpdateItem or
 * DeleteItem is billed like the write (1 unit per started KB; the item as sent, or as stored);
 * a cancelled transaction is priced as if it had run.
 */
async function failedWriteUnits(op: string, input: Record<string, unknown>, sizeOf?: ItemSizeLookup): Promise<number> {
  if (op === 'TransactWriteItems') return transactTableUnits(input, sizeOf);
  if (op !== 'PutItem' && op !== 'UpdateItem' && op !== 'DeleteItem') return 0;
  const body = input as TransactAction;
  const bytes = body.Item ? itemBytes(body.Item) : sizeOf && body.TableName && body.Key ? await sizeOf(body.TableName, body.Key) : 0;
  return Math.max(1, Math.ceil(bytes / 1024));
}

/** One call's wall-clock span (performance.now()), from the middleware's entry to its answer. */
export interface CallSpan {
  readonly start: number;
  readonly end: number;
}

/**
 * Sequential round trips among calls: groups of overlapping calls, a new group starting when a call
 * begins after every earlier call (by start time) has ended. Calls in parallel share a round.
 */
export function roundTrips(spans: readonly CallSpan[]): number {
  let rounds = 0;
  let lastEnd = -Infinity;
  for (const s of [...spans].sort((a, b) => a.start - b.start)) {
    if (s.start >= lastEnd) rounds++;
    lastEnd = Math.max(lastEnd, s.end);
  }
  return rounds;
}

export class SdkMeter {
  /** When set, DynamoDB calls carry ReturnConsumedCapacity: 'INDEXES' (off while timing, so requests stay as shipped). */
  capacity = false;
  /** When set, calls pass through uncounted (the benchmark's own floor operations). */
  paused = false;
  readonly name: string;
  private readonly sizeOf: ItemSizeLookup | undefined;
  private tallies = new Map<string, OpTally>();
  /** Spans of the calls since the last takeSpans() (recorded only while capacity is on). */
  private spans: CallSpan[] = [];

  constructor(name: string, sizeOf?: ItemSizeLookup) {
    this.name = name;
    this.sizeOf = sizeOf;
  }

  attach(client: MiddlewareClient): this {
    client.middlewareStack.add(
      (
        next: (args: { input: Record<string, unknown> }) => Promise<{ output: { ConsumedCapacity?: Capacity | Capacity[] } }>,
        context: { commandName?: string },
      ) =>
        async (args: { input: Record<string, unknown> }) => {
          if (this.paused) return next(args);
          const op = (context.commandName ?? 'Unknown').replace(/Command$/, '');
          const priced = this.capacity && CAPACITY_OPS.has(op);
          const started = performance.now();
          let result;
          try {
            result = await next(priced ? { ...args, input: { ...args.input, ReturnConsumedCapacity: 'INDEXES' } } : args);
          } catch (error) {
            const ended = performance.now();
            if (this.capacity) this.spans.push({ start: started, end: ended });
            // failed calls get their own row: their cost and time differ from successful ones
            const tally = this.tally(`${op} (failed)`, ended - started);
            if (priced) {
              tally.unreported++;
              tally.estimatedWriteUnits += await failedWriteUnits(op, args.input, this.sizeOf);
            }
            throw error;
          }
          const ended = performance.now();
          if (this.capacity) this.spans.push({ start: started, end: ended });
          const tally = this.tally(op, ended - started);
          if (priced) await this.count(op, tally, result.output.ConsumedCapacity, args.input);
          return result;
        },
      { step: 'initialize', name: `benchMeter-${this.name}`, priority: 'high' },
    );
    return this;
  }

  private tally(key: string, ms: number): OpTally {
    const tally = this.tallies.get(key) ?? emptyTally();
    this.tallies.set(key, tally);
    tally.calls++;
    tally.ms += ms;
    return tally;
  }

  private async count(op: string, tally: OpTally, consumed: Capacity | Capacity[] | undefined, input: Record<string, unknown>): Promise<void> {
    if (!consumed) {
      tally.unreported++;
      return;
    }
    let write = 0;
    let gsi = 0;
    for (const c of Array.isArray(consumed) ? consumed : [consumed]) {
      const total = c.CapacityUnits ?? 0;
      tally.readUnits += c.ReadCapacityUnits ?? (isReadOp(op) ? total : 0);
      write += c.WriteCapacityUnits ?? (isReadOp(op) ? 0 : total);
      gsi += Object.values(c.GlobalSecondaryIndexes ?? {}).reduce((n, g) => n + (g.CapacityUnits ?? 0), 0);
    }
    tally.writeUnits += write;
    if (isReadOp(op)) tally.gsiReadUnits += gsi;
    else tally.gsiWriteUnits += gsi;
    tally.ruleWriteUnits += op === 'TransactWriteItems' ? (await transactTableUnits(input, this.sizeOf)) + gsi : write;
  }

  reset(): void {
    this.tallies.clear();
    this.spans = [];
  }

  /** The call spans recorded since the last call (or reset), and forgets them. */
  takeSpans(): CallSpan[] {
    const spans = this.spans;
    this.spans = [];
    return spans;
  }

  /** Tallies since the last reset, per operation ("Op (failed)" for calls that threw). */
  snapshot(): Record<string, OpTally> {
    return Object.fromEntries([...this.tallies].map(([op, t]) => [op, { ...t }]));
  }
}

/** Sums tallies over operations and divides by the number of user actions they served. */
export function perAction(tallies: Record<string, OpTally>, actions: number) {
  const per = (n: number) => Math.round((n / actions) * 1000) / 1000;
  const scaled = (t: OpTally) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, per(v)])) as unknown as OpTally;
  const sum = (k: keyof OpTally) => per(Object.values(tallies).reduce((n, t) => n + t[k], 0));
  return {
    actions,
    calls: sum('calls'),
    failedCalls: per(Object.entries(tallies).reduce((n, [op, t]) => n + (op.endsWith('(failed)') ? t.calls : 0), 0)),
    ms: sum('ms'),
    readUnits: sum('readUnits'),
    writeUnits: sum('writeUnits'),
    gsiReadUnits: sum('gsiReadUnits'),
    gsiWriteUnits: sum('gsiWriteUnits'),
    ruleWriteUnits: sum('ruleWriteUnits'),
    unreportedCalls: sum('unreported'),
    estimatedUnreportedWriteUnits: sum('estimatedWriteUnits'),
    byOperation: Object.fromEntries(Object.entries(tallies).map(([op, t]) => [op, scaled(t)])),
  };
}
