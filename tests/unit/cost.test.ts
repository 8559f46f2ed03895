// The bench's cost model (bench/cost.ts): its arithmetic against figures worked out by hand, so a
// wrong unit or price in the dollars-per-million-messages line is a test failure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ASSUMPTIONS, costPerMillion, lambdaMsPerSend, profileFrom, type SendProfile } from '../../bench/cost.ts';
import { PRICES } from '../../bench/prices.ts';

const profile: SendProfile = { calls: 5, writeUnits: 10, readUnits: 4, lambdaMs: 24.2, lambdaMemoryMb: 256, wsMessages: 3, logBytes: 1000, traceRate: 0.05 };
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

  it('builds the profile from a messaging result: reads include GSI reads, Lambda time waits on every call', () => {
    const p = profileFrom({
      date: 'x',
      throughput: { cpuMsPerMessage: { node: 4 } },
      capacity: { perSend: { calls: 12, ruleWriteUnits: 21, readUnits: 9, gsiReadUnits: 1 } },
    });
    assert.equal(p.readUnits, 10);
    assert.equal(p.writeUnits, 21);
    assert.equal(p.lambdaMs, lambdaMsPerSend(4, 12));
    assert.equal(p.lambdaMs, 4 + 12 * ASSUMPTIONS.dynamoMsPerCall);
  });

  it('prices carry their date, region and sources', () => {
    assert.match(PRICES.date, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(PRICES.region, 'us-east-1');
    for (const source of Object.values(PRICES.sources)) assert.match(source, /^https:\/\/aws\.amazon\.com\//);
  });
});
