// The cost model: dollars per 1 million 1:1 messages, from what the messaging bench measured (DynamoDB
// calls and units per send, CPU per message) and the list prices in bench/prices.ts. Run by
// `npm run bench` after the messaging bench, or alone: `node bench/cost.ts` (reads
// bench/results/messaging.json, writes bench/results/cost.json). What is assumed rather than measured
// is named in ASSUMPTIONS and printed with the result.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MEMORY_MB } from '../lib/constructs/route-function.ts';
import { routes } from '../lib/routes.ts';
import { PRICES, type Prices } from './prices.ts';
import { environment, formatTable, RESULTS_DIR, round, writeResults } from './lib.ts';

/** What one 1:1 send costs in billable quantities. */
export interface SendProfile {
  /** DynamoDB calls per send (measured). */
  readonly calls: number;
  /** Sequential DynamoDB round trips per send (measured: groups of overlapping calls); what Lambda waits for. */
  readonly roundTrips: number;
  /** Write units by DynamoDB's rules, GSIs included (measured). */
  readonly writeUnits: number;
  /** Read units, GSIs included (measured). */
  readonly readUnits: number;
  /** Milliseconds of Lambda time per send (see lambdaMsPerSend). */
  readonly lambdaMs: number;
  readonly lambdaMemoryMb: number;
  /** WebSocket messages per send: the sender's frame, the push to the recipient, the ack. */
  readonly wsMessages: number;
  /** Bytes of log lines per send (ours plus Lambda's START/END/REPORT). */
  readonly logBytes: number;
  /** Fraction of invocations X-Ray records (its default rule: 1 per second, then 5%). */
  readonly traceRate: number;
  /** Bytes each message leaves stored (0 for a design that stores nothing). */
  readonly storedBytes: number;
}

/** What the model assumes, not measures; printed with every result. */
export const ASSUMPTIONS = {
  /** In-region DynamoDB latency per round trip as Lambda waits for it (AWS: single-digit ms); calls in parallel share one. */
  dynamoMsPerCall: 5,
  /** One JSON line of ours per invocation (~250 B) plus Lambda's START, END and REPORT lines (~450 B). */
  logBytesPerInvocation: 700,
  /** X-Ray's default sampling rule at volume: 5% after the first request each second. */
  traceRate: 0.05,
  /** Inbound sendMessage frame, one push to the recipient's one socket, the ack to the sender. */
  wsMessagesPerSend: 3,
  /** Bytes a stored message takes with its index entries (100-byte plaintext, sealed, base64). */
  storedBytesPerMessage: 700,
  /**
   * The Scan-per-message design (the common serverless WebSocket chat sample): each message Scans the
   * whole connections table (eventually consistent, ~200 B per connection item, 1 MB pages read one
   * after another) and posts the message to every connection in parallel; it writes and stores nothing.
   */
  scanDesign: {
    connections: [1_000, 100_000],
    connectionItemBytes: 200,
    /** Handler CPU per connection: unmarshal its item, sign and send its @connections POST (estimated, not measured). */
    cpuMsPerConnection: 0.3,
  },
} as const;

/** DynamoDB's Scan page limit (1 MB of items read per call) and eventually consistent read units (0.5 per started 4 KB, per page). */
const SCAN_PAGE_BYTES = 1024 * 1024;
export function scanReadUnits(totalBytes: number): { pages: number; readUnits: number } {
  const pages = Math.max(1, Math.ceil(totalBytes / SCAN_PAGE_BYTES));
  let readUnits = 0;
  for (let left = totalBytes; left > 0; left -= SCAN_PAGE_BYTES) readUnits += Math.ceil(Math.min(left, SCAN_PAGE_BYTES) / 4096) * 0.5;
  return { pages, readUnits };
}

/** Lambda ms per send: CPU measured per message (Node side, clients and gateway included: an upper bound) plus waiting on DynamoDB, one wait per sequential round trip. */
export function lambdaMsPerSend(cpuMs: number, roundTrips: number, msPerCall = ASSUMPTIONS.dynamoMsPerCall): number {
  return cpuMs + roundTrips * msPerCall;
}

export interface CostLine {
  readonly item: string;
  readonly quantityPerMessage: number;
  readonly unit: string;
  readonly usdPerMillion: number;
}

/** Dollars per 1 million sends, per billable item; storage is monthly and reported apart. */
export function costPerMillion(p: SendProfile, prices: Prices = PRICES): { lines: CostLine[]; totalUsd: number; storageUsdPerMonth: number } {
  const M = 1e6;
  // Lambda bills duration in 1 ms steps.
  const gbSeconds = (Math.ceil(p.lambdaMs) / 1000) * (p.lambdaMemoryMb / 1024);
  const lines: CostLine[] = [
    { item: 'Lambda requests', quantityPerMessage: 1, unit: 'request', usdPerMillion: M * prices.lambdaRequest },
    { item: 'Lambda duration (Arm)', quantityPerMessage: gbSeconds, unit: 'GB-s', usdPerMillion: M * gbSeconds * prices.lambdaArmGbSecond },
    { item: 'WebSocket messages', quantityPerMessage: p.wsMessages, unit: 'message', usdPerMillion: M * p.wsMessages * prices.wsMessage },
    { item: 'DynamoDB writes', quantityPerMessage: p.writeUnits, unit: 'WRU', usdPerMillion: M * p.writeUnits * prices.dynamoWriteUnit },
    { item: 'DynamoDB reads', quantityPerMessage: p.readUnits, unit: 'RRU', usdPerMillion: M * p.readUnits * prices.dynamoReadUnit },
    { item: 'CloudWatch Logs', quantityPerMessage: p.logBytes, unit: 'byte', usdPerMillion: ((M * p.logBytes) / 1e9) * prices.logsIngestGb },
    { item: 'X-Ray traces', quantityPerMessage: p.traceRate, unit: 'trace', usdPerMillion: M * p.traceRate * prices.xrayTrace },
  ];
  const totalUsd = lines.reduce((sum, l) => sum + l.usdPerMillion, 0);
  const storageUsdPerMonth = ((M * p.storedBytes) / 1e9) * prices.dynamoStorageGbMonth;
  return { lines, totalUsd, storageUsdPerMonth };
}

interface MessagingResults {
  readonly date: string;
  readonly throughput: { readonly cpuMsPerMessage: { readonly node: number } };
  readonly capacity: {
    readonly perSend: {
      readonly calls: number;
      readonly ruleWriteUnits: number;
      readonly readUnits: number;
      readonly gsiReadUnits: number;
      /** Absent in results from before round trips were measured: then every call counts as sequential. */
      readonly roundTrips?: { readonly mean: number; readonly max: number };
    };
  };
}

/** The send profile from a messaging bench result. */
export function profileFrom(results: MessagingResults): SendProfile {
  const perSend = results.capacity.perSend;
  const roundTrips = perSend.roundTrips?.mean ?? perSend.calls;
  return {
    calls: perSend.calls,
    roundTrips,
    writeUnits: perSend.ruleWriteUnits,
    readUnits: perSend.readUnits + perSend.gsiReadUnits,
    lambdaMs: lambdaMsPerSend(results.throughput.cpuMsPerMessage.node, roundTrips),
    lambdaMemoryMb: routes.sendMessage.memoryMb ?? DEFAULT_MEMORY_MB,
    wsMessages: ASSUMPTIONS.wsMessagesPerSend,
    logBytes: ASSUMPTIONS.logBytesPerInvocation,
    traceRate: ASSUMPTIONS.traceRate,
    storedBytes: ASSUMPTIONS.storedBytesPerMessage,
  };
}

/**
 * The Scan-per-message design's profile at a number of connections, priced by the same costPerMillion:
 * one Scan of the connections table per message (its pages one after another), a POST to every
 * connection, nothing written or stored. Lambda time: the same measured CPU per message as ours (its
 * fixed part), plus cpuMsPerConnection per connection, plus one DynamoDB wait per Scan page; the
 * POSTs' own wait is not counted (nor is it in ours).
 */
export function scanDesignProfile(ours: SendProfile, cpuMs: number, connections: number): SendProfile {
  const d = ASSUMPTIONS.scanDesign;
  const { pages, readUnits } = scanReadUnits(connections * d.connectionItemBytes);
  return {
    calls: pages,
    roundTrips: pages,
    writeUnits: 0,
    readUnits,
    lambdaMs: lambdaMsPerSend(cpuMs + connections * d.cpuMsPerConnection, pages),
    lambdaMemoryMb: ours.lambdaMemoryMb,
    // the sender's frame, then one POST per connection
    wsMessages: 1 + connections,
    logBytes: ours.logBytes,
    traceRate: ours.traceRate,
    storedBytes: 0,
  };
}

if (import.meta.main) {
  const messaging = JSON.parse(readFileSync(join(RESULTS_DIR, 'messaging.json'), 'utf8')) as MessagingResults;
  const profile = profileFrom(messaging);
  const cost = costPerMillion(profile);
  const cpuMs = messaging.throughput.cpuMsPerMessage.node;
  const scans = ASSUMPTIONS.scanDesign.connections.map((connections) => {
    const p = scanDesignProfile(profile, cpuMs, connections);
    return { connections, profile: p, cost: costPerMillion(p) };
  });
  console.log(`\nCost per 1 million 1:1 messages (${PRICES.region} list prices of ${PRICES.date}; messaging bench of ${messaging.date})\n`);
  console.log(
    formatTable(cost.lines, [
      { header: 'item', value: (l) => l.item },
      { header: 'per message', value: (l) => `${round(l.quantityPerMessage, 4)} ${l.unit}` },
      { header: 'USD per 1M', value: (l) => round(l.usdPerMillion, 3) },
    ]),
  );
  console.log(
    `Lambda time: ${round(profile.lambdaMs, 2)} ms = ${cpuMs} ms CPU measured + ${profile.roundTrips} round trips (${messaging.capacity.perSend.roundTrips ? 'measured mean' : 'not measured: every call counted'}) x ${ASSUMPTIONS.dynamoMsPerCall} ms`,
  );
  console.log(`total: $${round(cost.totalUsd, 2)} per 1M messages, plus $${round(cost.storageUsdPerMonth, 3)} per month to store them`);

  const d = ASSUMPTIONS.scanDesign;
  console.log(
    `\nSide by side with a Scan-per-message design (the common serverless WebSocket sample: each message Scans the whole connections\n` +
      `table, ${d.connectionItemBytes} B per item, eventually consistent, and posts to every connection; ${d.cpuMsPerConnection} ms CPU per connection assumed),\n` +
      'same prices, same code (USD per 1M messages)\n',
  );
  const items = cost.lines.map((l) => l.item);
  const usd = (c: ReturnType<typeof costPerMillion>, item: string) => c.lines.find((l) => l.item === item)!.usdPerMillion;
  console.log(
    formatTable(
      [
        ...items.map((item) => ({ item, ours: usd(cost, item), scans: scans.map((s) => usd(s.cost, item)) })),
        { item: 'total', ours: cost.totalUsd, scans: scans.map((s) => s.cost.totalUsd) },
      ],
      [
        { header: 'item', value: (r) => r.item },
        { header: 'ours', value: (r) => round(r.ours, 3), align: 'right' },
        ...scans.map((s, i) => ({
          header: `Scan, ${s.connections.toLocaleString('en-US')} conn.`,
          value: (r: { scans: number[] }) => round(r.scans[i]!, 3),
          align: 'right' as const,
        })),
      ],
    ),
  );
  for (const s of scans)
    console.log(
      `  Scan design at ${s.connections.toLocaleString('en-US')} connections: ${s.profile.calls} Scan page(s), ${s.profile.readUnits} RRU, ${s.profile.wsMessages} WebSocket messages, ` +
        `${round(s.profile.lambdaMs, 1)} ms of Lambda per message: $${round(s.cost.totalUsd, 2)} per 1M messages (x${round(s.cost.totalUsd / cost.totalUsd, 1)} ours)`,
    );
  const path = writeResults('cost.json', {
    benchmark: 'cost',
    ...environment(),
    prices: PRICES,
    assumptions: ASSUMPTIONS,
    fromMessagingBench: messaging.date,
    profile,
    perMillionMessages: { lines: cost.lines.map((l) => ({ ...l, usdPerMillion: round(l.usdPerMillion, 4) })), totalUsd: round(cost.totalUsd, 3) },
    storageUsdPerMonthPerMillion: round(cost.storageUsdPerMonth, 4),
    scanPerMessageDesign: {
      description:
        'The common serverless WebSocket chat sample: every message Scans the whole connections table (eventually consistent, ' +
        `${d.connectionItemBytes} B per connection item, 1 MB pages in sequence) and posts to every connection; it writes and stores nothing. ` +
        'Priced by the same costPerMillion; Lambda time is our measured CPU per message plus cpuMsPerConnection per connection (assumed) plus one DynamoDB wait per Scan page.',
      byConnections: scans.map((s) => ({
        connections: s.connections,
        profile: s.profile,
        perMillionMessages: { lines: s.cost.lines.map((l) => ({ ...l, usdPerMillion: round(l.usdPerMillion, 4) })), totalUsd: round(s.cost.totalUsd, 3) },
        timesOurs: round(s.cost.totalUsd / cost.totalUsd, 1),
      })),
    },
  });
  console.log(`\nwrote ${path}`);
}
