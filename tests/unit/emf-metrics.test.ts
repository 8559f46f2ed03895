// The business-metrics emitter (functions/adapters/emf-metrics.ts): valid CloudWatch EMF, the very
// documents Powertools Metrics writes for the same counts, one flush per invocation; when it is on
// (inside Lambda only, unless disabled); and that an enabled function really writes it to stdout.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { emfMetrics } from '#adapters/emf-metrics.ts';
import { loadMetricsConfig } from '#core/config.ts';
import { datapoints, type EmfDocument } from '../../local/metrics.ts';

const NOW = Date.UTC(2030, 0, 1);
const settings = { namespace: 'NexChat', dimensions: { service: 'nexchat', stage: 'prod' } };

function emitter() {
  const lines: string[] = [];
  const port = emfMetrics(settings, { now: () => NOW }, (line) => lines.push(line));
  return { port, lines, docs: () => lines.map((l) => JSON.parse(l) as EmfDocument) };
}

/** What Powertools Metrics serializes for the same counts (its own EMF code, not ours). */
function powertools(counts: [string, number][], dimensions?: Record<string, string>): EmfDocument {
  const m = new Metrics({ namespace: 'NexChat', serviceName: 'nexchat', defaultDimensions: { stage: 'prod' } });
  if (dimensions) {
    m.addDimensions({}); // the total, as ours publishes it beside the per-channel one
    m.addDimensions(dimensions);
  }
  for (const [name, n] of counts) for (let i = 0; i < n; i++) m.addMetric(name, MetricUnit.Count, 1);
  const doc = m.serializeMetrics() as unknown as EmfDocument;
  doc._aws.Timestamp = NOW;
  return doc;
}

describe('the EMF emitter', () => {
  test('writes nothing until the flush, then one valid EMF document with the namespace, dimensions and counts', () => {
    const { port, lines, docs } = emitter();
    port.count('MessagesSent');
    port.count('LoginFailures');
    port.count('LoginFailures');
    assert.deepEqual(lines, [], 'counts wait for the end of the invocation');
    port.flush();
    assert.equal(lines.length, 1);
    const [doc] = docs();
    assert.equal(doc!._aws.CloudWatchMetrics[0]!.Namespace, 'NexChat');
    assert.equal(doc!._aws.Timestamp, NOW);
    assert.deepEqual(doc!._aws.CloudWatchMetrics[0]!.Dimensions, [['service', 'stage']]);
    assert.deepEqual(doc!._aws.CloudWatchMetrics[0]!.Metrics, [
      { Name: 'MessagesSent', Unit: 'Count' },
      { Name: 'LoginFailures', Unit: 'Count' },
    ]);
    assert.deepEqual([doc!.service, doc!.stage, doc!.MessagesSent, doc!.LoginFailures], ['nexchat', 'prod', 1, [1, 1]]);
    port.flush();
    assert.equal(lines.length, 1, 'a flush with nothing counted writes nothing, and nothing twice');
  });

  test('is the document Powertools Metrics writes for the same counts', () => {
    const { port, docs } = emitter();
    port.count('ReportsFiled');
    port.count('MessagesSent');
    port.count('MessagesSent');
    port.flush();
    assert.deepEqual(docs(), [
      powertools([
        ['ReportsFiled', 1],
        ['MessagesSent', 2],
      ]),
    ]);
  });

  test('OtpsSent by channel: one document per channel, each published as the total and per channel', () => {
    const { port, docs } = emitter();
    port.count('OtpsSent', { channel: 'email' });
    port.count('OtpsSent', { channel: 'sms' });
    port.count('OtpsSent', { channel: 'email' });
    port.flush();
    assert.deepEqual(docs(), [powertools([['OtpsSent', 2]], { channel: 'email' }), powertools([['OtpsSent', 1]], { channel: 'sms' })]);
    const points = docs().flatMap(datapoints);
    const sum = (dimensions: Record<string, string>) =>
      points.filter((p) => p.name === 'OtpsSent' && isDeepStrictEqual(p.dimensions, dimensions)).reduce((t, p) => t + p.values.length, 0);
    assert.equal(sum({ service: 'nexchat', stage: 'prod' }), 3, 'the total, for one alarm on all codes');
    assert.equal(sum({ service: 'nexchat', stage: 'prod', channel: 'email' }), 2);
    assert.equal(sum({ service: 'nexchat', stage: 'prod', channel: 'sms' }), 1);
  });
});

describe('when metrics are written', () => {
  test('inside Lambda only (AWS_LAMBDA_FUNCTION_NAME), unless POWERTOOLS_METRICS_DISABLED; names and dimensions from the environment', () => {
    assert.equal(loadMetricsConfig({}).enabled, false, 'outside Lambda (tests, scripts): off');
    assert.equal(loadMetricsConfig({ AWS_LAMBDA_FUNCTION_NAME: 'fn' }).enabled, true);
    assert.equal(loadMetricsConfig({ AWS_LAMBDA_FUNCTION_NAME: 'fn', POWERTOOLS_METRICS_DISABLED: 'true' }).enabled, false);
    assert.throws(() => loadMetricsConfig({ POWERTOOLS_METRICS_DISABLED: 'maybe' }), /POWERTOOLS_METRICS_DISABLED/);
    assert.deepEqual(loadMetricsConfig({ POWERTOOLS_METRICS_NAMESPACE: 'NexChat', POWERTOOLS_SERVICE_NAME: 'nexchat', NEXCHAT_STAGE: 'prod' }), {
      enabled: false,
      namespace: 'NexChat',
      dimensions: { service: 'nexchat', stage: 'prod' },
    });
  });

  const flushIn = (env: Record<string, string>) => {
    const wiring = pathToFileURL(join(import.meta.dirname, '../../functions/wiring/metrics.ts')).href;
    const script = `const { metrics } = await import(${JSON.stringify(wiring)}); metrics().count('ReportsFiled'); metrics().flush();`;
    return execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  };

  test('a function in Lambda writes the EMF line to stdout; the same code elsewhere writes nothing', () => {
    const inLambda = flushIn({
      AWS_LAMBDA_FUNCTION_NAME: 'nexchat-prod-CreateReport',
      NEXCHAT_STAGE: 'prod',
      POWERTOOLS_METRICS_NAMESPACE: 'NexChat',
      POWERTOOLS_SERVICE_NAME: 'nexchat',
    });
    const doc = JSON.parse(inLambda) as EmfDocument;
    assert.equal(doc._aws.CloudWatchMetrics[0]!.Namespace, 'NexChat');
    assert.deepEqual([doc.service, doc.stage, doc.ReportsFiled], ['nexchat', 'prod', 1]);
    assert.equal(flushIn({ AWS_LAMBDA_FUNCTION_NAME: 'nexchat-prod-CreateReport', POWERTOOLS_METRICS_DISABLED: 'true' }), '');
    assert.equal(flushIn({ NEXCHAT_STAGE: 'dev' }), '', 'not in Lambda, no laptop runtime: nothing on stdout');
  });
});
