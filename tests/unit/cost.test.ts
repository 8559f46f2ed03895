// The bench's cost model (bench/cost.ts): its arithmetic against figures worked out by hand, so a
// wrong unit or price in the dollars-per-million-messages line is a test failure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ASSUMPTIONS, costPerMillion, lambdaMsPerSend, profileFrom, scanDesignProfile, scanReadUnits, type SendProfile } from '../../bench/cost.ts';
import { roundTrips } from '../../bench/sdk-meter.ts';
import { PRICES } from '../../bench/prices.ts';

const profile: SendProfile = {
  calls: 5,
  roundTrips: 3,
  writeUnits: 10,
  readUnits: 4,
  lambdaMs: 24.2,
  lambdaMemoryMb: 256,
  wsMessages: 3,
  logBytes: 1000,
  traceRate: 0.05,
  storedBytes: 700,
};
const usd = (item: string) => costPerMillion(profile).lines.find((l) => l.item === item)!.usdPerMillion;

describe('cost model', () => {
  it('prices each billable item per million messages', () => {
    assert.equal(usd('Lambda requests'), 0.2);
    // 25 ms (billed in 1 ms steps) at 0.25 GB = 0.00625 GB-s per message
    assert.ok(Math.abs(usd('Lambda duration (Arm)') - 6250 * 0.0000133334) < 1e-9);
    assert.equal(usd('WebSocket messages'), 3);
    assert.ok(Math.abs(usd('DynamoDB writes') - 6.25) < 1e-9);
    assert.ok(Math.abs(usd('DynamoDB reads') - 0.5) < 1e-9);
    assert.ok(Math.abs(usd('CloudWatch Logs') - 0.5) < 1e-9, '1 GB of logs per million at $0.50/GB');
    assert.ok(Math.abs(usd('X-Ray traces') - 0.25) < 1e-9);
    const { totalUsd, lines } = costPerMillion(profile);
    assert.ok(Math.abs(totalUsd - lines.reduce((s, l) => s + l.usdPerMillion, 0)) < 1e-9);
  });

  it('scales with the measured units: halving write units halves that line', () => {
    const half = costPerMillion({ ...profile, writeUnits: 5 }).lines.find((l) => l.item === 'DynamoDB writes')!.usdPerMillion;
    assert.ok(Math.abs(half - 3.125) < 1e-9);
  });

  it('builds the profile from a messaging result: reads include GSI reads, Lambda time waits once per measured round trip', () => {
    const p = profileFrom({
      date: 'x',
      throughput: { cpuMsPerMessage: { node: 4 } },
      capacity: { perSend: { calls: 12, ruleWriteUnits: 21, readUnits: 9, gsiReadUnits: 1, roundTrips: { mean: 2.5, max: 3 } } },
    });
    assert.equal(p.readUnits, 10);
    assert.equal(p.writeUnits, 21);
    assert.equal(p.roundTrips, 2.5);
    // 4 ms CPU + 2.5 round trips x 5 ms, not 12 calls x 5 ms
    assert.equal(ASSUMPTIONS.dynamoMsPerCall, 5);
    assert.equal(p.lambdaMs, 16.5);
    assert.equal(p.lambdaMs, lambdaMsPerSend(4, 2.5));
  });

  it('reads results from before round trips were measured as every call sequential', () => {
    const p = profileFrom({
      date: 'x',
      throughput: { cpuMsPerMessage: { node: 4 } },
      capacity: { perSend: { calls: 12, ruleWriteUnits: 21, readUnits: 9, gsiReadUnits: 1 } },
    });
    assert.equal(p.roundTrips, 12);
    assert.equal(p.lambdaMs, 64);
  });

  it('counts round trips as groups of overlapping calls', () => {
    assert.equal(roundTrips([]), 0);
    // three in parallel, then one, then two in parallel
    const spans = [
      { start: 0, end: 5 },
      { start: 1, end: 4 },
      { start: 0.5, end: 6 },
      { start: 6, end: 9 },
      { start: 9.5, end: 12 },
      { start: 10, end: 11 },
    ];
    assert.equal(roundTrips(spans), 3);
    assert.equal(roundTrips([...spans].reverse()), 3, 'order of recording does not matter');
    // a call that starts before every earlier one ended joins their round
    assert.equal(
      roundTrips([
        { start: 0, end: 5 },
        { start: 1, end: 2 },
        { start: 3, end: 7 },
      ]),
      1,
    );
    assert.equal(
      roundTrips([
        { start: 0, end: 5 },
        { start: 5, end: 7 },
      ]),
      2,
    );
  });

  it('prices a Scan of the connections table: 0.5 RRU per started 4 KB, in 1 MB pages', () => {
    // 1,000 x 200 B = 200,000 B = 48.8 blocks of 4 KB -> 49 x 0.5 = 24.5 RRU, one page
    assert.deepEqual(scanReadUnits(200_000), { pages: 1, readUnits: 24.5 });
    // 100,000 x 200 B = 20,000,000 B: 19 full pages of 1,048,576 B (256 blocks, 128 RRU each) and one of
    // 76,256 B (19 blocks, 9.5 RRU) = 2,441.5 RRU in 20 pages
    assert.deepEqual(scanReadUnits(20_000_000), { pages: 20, readUnits: 2441.5 });
  });

  it('prices the Scan-per-message design with the same code', () => {
    assert.equal(ASSUMPTIONS.scanDesign.connectionItemBytes, 200);
    assert.equal(ASSUMPTIONS.scanDesign.cpuMsPerConnection, 0.3);
    const at1k = scanDesignProfile(profile, 4, 1000);
    assert.equal(at1k.writeUnits, 0);
    assert.equal(at1k.storedBytes, 0);
    assert.equal(at1k.readUnits, 24.5);
    assert.equal(at1k.wsMessages, 1001);
    // 4 ms + 1,000 x 0.3 ms + 1 page x 5 ms = 309 ms
    assert.equal(at1k.lambdaMs, 309);
    const c = costPerMillion(at1k);
    const line = (item: string) => c.lines.find((l) => l.item === item)!.usdPerMillion;
    assert.ok(Math.abs(line('WebSocket messages') - 1001) < 1e-9, '$1 per million messages x 1,001');
    assert.ok(Math.abs(line('DynamoDB reads') - 24.5 * 0.125) < 1e-9);
    assert.equal(line('DynamoDB writes'), 0);
    // 309 ms at 0.25 GB = 0.07725 GB-s
    assert.ok(Math.abs(line('Lambda duration (Arm)') - 1e6 * 0.07725 * 0.0000133334) < 1e-6);
    assert.equal(c.storageUsdPerMonth, 0);
    // 1e6 x (0.2e-6 + 1001e-6 + 3.0625e-6 + 0.07725 x 0.0000133334) + 0.5 + 0.25
    assert.ok(Math.abs(c.totalUsd - (0.2 + 1001 + 3.0625 + 1.03000515 + 0.5 + 0.25)) < 1e-6);
    const at100k = scanDesignProfile(profile, 4, 100_000);
    assert.equal(at100k.calls, 20);
    assert.equal(at100k.roundTrips, 20);
    // 4 + 30,000 + 20 x 5 ms
    assert.equal(at100k.lambdaMs, 30_104);
    assert.ok(costPerMillion(at100k).totalUsd > (100 * c.totalUsd) / 2);
  });

  it('prices carry their date, region and sources', () => {
    assert.match(PRICES.date, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(PRICES.region, 'us-east-1');
    for (const source of Object.values(PRICES.sources)) assert.match(source, /^https:\/\/aws\.amazon\.com\//);
  });
});
