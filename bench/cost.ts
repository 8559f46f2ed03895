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
}

/** What the model assumes, not measures; printed with every result. */
export const ASSUMPTIONS = {
  /** In-region DynamoDB latency per call as Lambda waits for it (AWS: single-digit ms); calls counted as sequential, an upper bound. */
  dynamoMsPerCall: 5,
  /** One JSON line of ours per invocation (~250 B) plus Lambda's START, END and REPORT lines (~450 B). */
  logBytesPerInvocation: 700,
  /** X-Ray's default sampling rule at volume: 5% after the first request each second. */
  traceRate: 0.05,
  /** Inbound sendMessage frame, one push to the recipient's one socket, the ack to the sender. */
  wsMessagesPerSend: 3,
  /** Bytes a stored message takes with its index entries (100-byte plaintext, sealed, base64). */
  storedBytesPerMessage: 700,
} as const;

/** Lambda ms per send: CPU measured per message (Node side, clients and gateway included: an upper bound) plus waiting on DynamoDB. */
export function lambdaMsPerSend(cpuMs: number, calls: number, msPerCall = ASSUMPTIONS.dynamoMsPerCall): number {
  return cpuMs + calls * msPerCall;
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
  const storageUsdPerMonth = ((M * ASSUMPTIONS.storedBytesPerMessage) / 1e9) * prices.dynamoStorageGbMonth;
  return { lines, totalUsd, storageUsdPerMonth };
}

interface MessagingResults {
  readonly date: string;
  readonly throughput: { readonly cpuMsPerMessage: { readonly node: number } };
  readonly capacity: {
    readonly perSend: { readonly calls: number; readonly ruleWriteUnits: number; readonly readUnits: number; readonly gsiReadUnits: number };
  };
}

/** The send profile from a messaging bench result. */
export function profileFrom(results: MessagingResults): SendProfile {
  const perSend = results.capacity.perSend;
  return {
    calls: perSend.calls,
    writeUnits: perSend.ruleWriteUnits,
    readUnits: perSend.readUnits + perSend.gsiReadUnits,
    lambdaMs: lambdaMsPerSend(results.throughput.cpuMsPerMessage.node, perSend.calls),
    lambdaMemoryMb: routes.sendMessage.memoryMb ?? DEFAULT_MEMORY_MB,
    wsMessages: ASSUMPTIONS.wsMessagesPerSend,
    logBytes: ASSUMPTIONS.logBytesPerInvocation,
    traceRate: ASSUMPTIONS.traceRate,
  };
}

if (import.meta.main) {
  const messaging = JSON.parse(readFileSync(join(RESULTS_DIR, 'messaging.json'), 'utf8')) as MessagingResults;
  const profile = profileFrom(messaging);
  const cost = costPerMillion(profile);
  console.log(`\nCost per 1 million 1:1 messages (${PRICES.region} list prices of ${PRICES.date}; messaging bench of ${messaging.date})\n`);
  console.log(
    formatTable(cost.lines, [
      { header: 'item', value: (l) => l.item },
      { header: 'per message', value: (l) => `${round(l.quantityPerMessage, 4)} ${l.unit}` },
      { header: 'USD per 1M', value: (l) => round(l.usdPerMillion, 3) },
    ]),
  );
  console.log(`total: $${round(cost.totalUsd, 2)} per 1M messages, plus $${round(cost.storageUsdPerMonth, 3)} per month to store them`);
  const path = writeResults('cost.json', {
    benchmark: 'cost',
    ...environment(),
    prices: PRICES,
    assumptions: ASSUMPTIONS,
    fromMessagingBench: messaging.date,
    profile,
    perMillionMessages: { lines: cost.lines.map((l) => ({ ...l, usdPerMillion: round(l.usdPerMillion, 4) })), totalUsd: round(cost.totalUsd, 3) },
    storageUsdPerMonthPerMillion: round(cost.storageUsdPerMonth, 4),
  });
  console.log(`\nwrote ${path}`);
}
