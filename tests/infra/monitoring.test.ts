// Monitoring (lib/constructs/monitoring.ts): the nested stack's alarms, alarm topic and dashboard, as
// synthesized. Every function of the stack gets an errors, a throttles and a p99-duration alarm (the
// duration threshold from the function's own timeout); account, HTTP, WebSocket, DynamoDB, SES and SMS
// alarms watch the metrics they claim to; every alarm (and the main stack's dead-letter alarm) notifies
// the encrypted, TLS-only topic; subscriptions follow their context and the webhook URL never enters a
// template; context is validated; cdk-nag sees and passes the nested stack; the main template barely grows.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { App, CfnResource, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CfnSubscription } from 'aws-cdk-lib/aws-sns';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { defaultMonitoringSettings, readMonitoringSettings } from '../../lib/constructs/monitoring.ts';
import { DEFAULT_TIMEOUT_SECONDS } from '../../lib/constructs/route-function.ts';
import { allRoutes, allScheduledJobs, allWorkers, type HttpRoute, type Route } from '../../lib/routes.ts';
import { tables } from '../../lib/tables.ts';
import {
  acknowledgements,
  isControlTowerAcknowledgement,
  asArray,
  buildApp,
  logicalId,
  ofType,
  rawNagFindings,
  res,
  synthesize,
  violationLines,
  type CfnJson,
  type Json,
  type Synth,
  policyStatements,
} from '../support/cdk-app.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:nexchat/alarm-webhook-AbCdEf';
const fullContext = {
  stage: 'mon',
  alarmEmail: 'oncall@example.com',
  alarmWebhookSecretArn: SECRET_ARN,
  alarmWebhookFormat: 'teams',
  lambdaConcurrencyLimit: '3000',
  smsMonthlyBudgetUsd: 20,
};

/** A route the manifest may not have: a 30 s timeout, so the duration threshold must follow it (24 s), not the default. */
const slowRoute: HttpRoute = {
  kind: 'http',
  id: 'TestSlow',
  method: 'GET',
  path: '/api/test/slow',
  handler: 'functions/http/system/get-health.ts',
  access: 'public',
  tables: { ephemeral: 'read' },
  timeoutSeconds: 30,
  throttle: { rate: 5, burst: 10 },
  summary: 'Synthetic slow route (tests only)',
  input: {},
  output: {},
};

/** The nested stack's template beside the main one, and how its parameters map to main-stack resources. */
interface Synthesized extends Synth {
  readonly nested: { Resources: Record<string, CfnJson>; Parameters?: Record<string, Json>; Outputs?: Record<string, Json> };
  readonly nestedResource: CfnJson;
}

function withNested(s: Synth): Synthesized {
  const stacks = ofType(s, 'AWS::CloudFormation::Stack');
  assert.equal(stacks.length, 1, 'one nested stack');
  return { ...s, nested: Template.fromStack(s.stack.monitoring).toJSON() as Synthesized['nested'], nestedResource: stacks[0]![1] };
}

/** The main-stack logical id a nested-stack value points at: a parameter passed a Ref or GetAtt of it. */
function mainTarget(s: Synthesized, value: Json): string | undefined {
  const param = value?.Ref;
  if (typeof param !== 'string' || !s.nested.Parameters?.[param]) return undefined;
  const passed = s.nestedResource.Properties.Parameters[param];
  return passed?.Ref ?? passed?.['Fn::GetAtt']?.[0];
}

const alarms = (s: Synthesized) => Object.entries(s.nested.Resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
const alarmNamed = (s: Synthesized, name: string): Json => {
  const found = alarms(s).filter(([, a]) => a.Properties.AlarmName === `${s.stack.stackName}-${name}`);
  assert.equal(found.length, 1, `one alarm named ${s.stack.stackName}-${name}`);
  return found[0]![1].Properties;
};
/** The metric stats of an alarm, whether it watches one metric or a metric math expression. */
function statsOf(alarm: Json): { namespace: string; name: string; dims: Record<string, Json>; stat: string; period: number }[] {
  const dims = (list: Json[]) => Object.fromEntries(asArray<Json>(list).map((d) => [d.Name, d.Value]));
  if (alarm.MetricName) {
    return [
      {
        namespace: alarm.Namespace,
        name: alarm.MetricName,
        dims: dims(alarm.Dimensions),
        stat: alarm.Statistic ?? alarm.ExtendedStatistic,
        period: alarm.Period,
      },
    ];
  }
  return asArray<Json>(alarm.Metrics)
    .filter((m) => m.MetricStat)
    .map((m) => ({
      namespace: m.MetricStat.Metric.Namespace,
      name: m.MetricStat.Metric.MetricName,
      dims: dims(m.MetricStat.Metric.Dimensions),
      stat: m.MetricStat.Stat,
      period: m.MetricStat.Period,
    }));
}
const expressionOf = (alarm: Json): string => asArray<Json>(alarm.Metrics).find((m) => m.Expression)?.Expression ?? '';

/** A dashboard body with main-stack references spelled `<logicalId>` (and pseudo parameters `<AWS::Region>`). */
function dashboardBody(s: Synthesized): Json {
  const dashboards = Object.values(s.nested.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  assert.equal(dashboards.length, 1, 'one dashboard');
  const body = dashboards[0]!.Properties.DashboardBody;
  const parts: Json[] = typeof body === 'string' ? [body] : body['Fn::Join'][1];
  const text = parts.map((p) => (typeof p === 'string' ? p : `<${mainTarget(s, p) ?? p.Ref}>`)).join('');
  return JSON.parse(text);
}

/** The authorizers and workers: functions of the stack beside the routes. */
const authorizerCount = (routes: readonly Route[]) => routes.filter((r) => r.kind === 'ws' && r.authorizer).length;

let plain: Synthesized;
let full: Synthesized;

before(() => {
  plain = withNested(synthesize(buildApp(), allRoutes));
  const routes = [...allRoutes, slowRoute];
  full = withNested(synthesize(buildApp(fullContext, routes), routes));
});

const apps = () => [
  { name: 'default context', s: plain },
  { name: 'full context', s: full },
];

describe('per-function alarms', () => {
  it('every function of the stack (routes, authorizers, workers, scheduled jobs) has exactly an errors, a throttles and a p99 duration alarm', () => {
    for (const { name, s } of apps()) {
      const fnIds = Object.keys(s.stack.functions);
      assert.equal(fnIds.length, s.routes.length + authorizerCount(s.routes) + allWorkers.length + allScheduledJobs.length, name);
      const byFunction = new Map<string, string[]>();
      for (const [id, a] of alarms(s)) {
        const fnName = statsOf(a.Properties).find((m) => m.namespace === 'AWS/Lambda' && m.dims.FunctionName)?.dims.FunctionName;
        if (!fnName || s.nested.Resources[fnName.Ref]) continue; // none, or the forwarder's own (below)
        const target = mainTarget(s, fnName);
        assert.ok(target, `${name} ${id}: FunctionName is a main-stack function passed in, not an alias or version: ${JSON.stringify(fnName)}`);
        assert.equal(res(s, target).Type, 'AWS::Lambda::Function');
        byFunction.set(target, [...(byFunction.get(target) ?? []), a.Properties.MetricName].sort());
      }
      for (const fnId of fnIds) {
        assert.deepEqual(byFunction.get(logicalId(s, s.stack.functions[fnId]!.function)), ['Duration', 'Errors', 'Throttles'], `${name}: ${fnId}`);
      }
      assert.equal(byFunction.size, fnIds.length, `${name}: no alarms on other functions (the forwarder's own is checked below)`);
    }
  });

  it("thresholds: 3+ errors or 1+ throttle in 5 minutes; p99 duration at 80% of the function's own timeout, 2 of 3 periods", () => {
    for (const { name, s } of apps()) {
      for (const [fnId, made] of Object.entries(s.stack.functions)) {
        const timeout = res(s, logicalId(s, made.function)).Properties.Timeout;
        const errors = alarmNamed(s, `${fnId}-Errors`);
        assert.deepEqual([errors.MetricName, errors.Statistic, errors.Period, errors.Threshold, errors.EvaluationPeriods], ['Errors', 'Sum', 300, 3, 1]);
        const throttles = alarmNamed(s, `${fnId}-Throttles`);
        assert.deepEqual([throttles.MetricName, throttles.Statistic, throttles.Threshold], ['Throttles', 'Sum', 1]);
        const duration = alarmNamed(s, `${fnId}-DurationP99`);
        assert.deepEqual(
          [duration.MetricName, duration.ExtendedStatistic, duration.Threshold, duration.EvaluationPeriods, duration.DatapointsToAlarm],
          ['Duration', 'p99', timeout * 800, 3, 2],
          `${name} ${fnId}: ${timeout} s timeout`,
        );
        for (const a of [errors, throttles, duration]) {
          assert.equal(a.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
          assert.equal(a.TreatMissingData, 'notBreaching', `${fnId}: no invocations is nothing failing`);
          assert.match(a.AlarmDescription, new RegExp(`^NexChat ${s.stack.stage}: .*${fnId}`), 'says which stage and function');
        }
      }
    }
    assert.equal(alarmNamed(full, 'TestSlow-DurationP99').Threshold, 24_000, 'the slow route: 80% of 30 s');
    assert.equal(alarmNamed(plain, 'GetHealth-DurationP99').Threshold, DEFAULT_TIMEOUT_SECONDS * 800);
  });

  it('functionAlarms(id) hands the canary work exactly those three alarms; an unknown id throws', () => {
    const mon = plain.stack.monitoring;
    for (const [fnId, made] of Object.entries(plain.stack.functions)) {
      const got = mon.functionAlarms(fnId).map((a) => {
        const p = plain.nested.Resources[mon.getLogicalId(a.node.defaultChild as CfnElement)]!.Properties;
        return [p.AlarmName, p.MetricName, mainTarget(plain, p.Dimensions[0].Value)];
      });
      const fn = logicalId(plain, made.function);
      assert.deepEqual(got, [
        [`NexChat-dev-${fnId}-Errors`, 'Errors', fn],
        [`NexChat-dev-${fnId}-Throttles`, 'Throttles', fn],
        [`NexChat-dev-${fnId}-DurationP99`, 'Duration', fn],
      ]);
    }
    assert.throws(() => mon.functionAlarms('NoSuchFunction'), /no alarms for function NoSuchFunction/);
  });
});

describe('notifications', () => {
  it('every alarm notifies the topic on ALARM and on OK; the main stack’s dead-letter alarms too', () => {
    for (const { name, s } of apps()) {
      const topics = Object.entries(s.nested.Resources).filter(([, r]) => r.Type === 'AWS::SNS::Topic');
      assert.equal(topics.length, 1, name);
      const topic = { Ref: topics[0]![0] };
      assert.ok(alarms(s).length > 0);
      for (const [id, a] of alarms(s)) {
        assert.deepEqual(a.Properties.AlarmActions, [topic], `${name} ${id}`);
        assert.deepEqual(a.Properties.OKActions, [topic], `${name} ${id}`);
        assert.equal(a.Properties.ActionsEnabled ?? true, true);
      }
      const nestedId = ofType(s, 'AWS::CloudFormation::Stack')[0]![0];
      for (const queue of [s.stack.queues.otp, s.stack.queues.presence]) {
        const dlqAlarm = res(s, logicalId(s, queue.alarm)).Properties;
        for (const actions of [dlqAlarm.AlarmActions, dlqAlarm.OKActions]) {
          assert.equal(actions.length, 1);
          const [stackId, output] = actions[0]['Fn::GetAtt'];
          assert.equal(stackId, nestedId, `${name}: the dead-letter alarm notifies through the nested stack's output`);
          assert.deepEqual(s.nested.Outputs?.[output.replace(/^Outputs\./, '')]?.Value, topic, `${name}: which is the topic`);
        }
      }
      assert.deepEqual(
        ofType(s, 'AWS::CloudWatch::Alarm').map(([id]) => id),
        [logicalId(s, s.stack.queues.otp.alarm), logicalId(s, s.stack.queues.presence.alarm)],
        'the main stack holds no other alarm',
      );
    }
  });

  it('the topic is encrypted with a rotating key CloudWatch may use, refuses plain HTTP, and takes alarms of this account only', () => {
    const r = plain.nested.Resources;
    const [topicId, topic] = Object.entries(r).find(([, x]) => x.Type === 'AWS::SNS::Topic')!;
    const keyId = topic.Properties.KmsMasterKeyId?.['Fn::GetAtt']?.[0];
    assert.equal(r[keyId]?.Type, 'AWS::KMS::Key', 'a customer managed key (CloudWatch cannot use the AWS managed SNS key)');
    assert.equal(r[keyId]!.Properties.EnableKeyRotation, true);
    const keyStatements = asArray<Json>(r[keyId]!.Properties.KeyPolicy.Statement);
    assert.ok(
      keyStatements.some(
        (st) =>
          st.Principal?.Service === 'cloudwatch.amazonaws.com' &&
          asArray(st.Action).includes('kms:Decrypt') &&
          asArray(st.Action).includes('kms:GenerateDataKey*'),
      ),
    );
    const policy = Object.values(r).find((x) => x.Type === 'AWS::SNS::TopicPolicy')!.Properties;
    assert.deepEqual(policy.Topics, [{ Ref: topicId }]);
    const statements = asArray<Json>(policy.PolicyDocument.Statement);
    assert.ok(statements.some((st) => st.Effect === 'Deny' && st.Condition?.Bool?.['aws:SecureTransport'] === 'false'));
    const cw = statements.find((st) => st.Effect === 'Allow' && st.Principal?.Service === 'cloudwatch.amazonaws.com');
    assert.deepEqual(cw?.Condition, { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
    assert.equal(topic.Properties.DisplayName, 'NexChat dev alarms');
    assert.ok(plain.template.toJSON().Outputs.AlarmTopicArn, 'the main stack outputs the topic ARN for subscribing');
  });

  it('no subscription without context; alarmEmail subscribes that address; a webhook subscribes the forwarder', () => {
    const subs = (s: Synthesized) => Object.values(s.nested.Resources).filter((r) => r.Type === 'AWS::SNS::Subscription');
    assert.deepEqual(subs(plain), []);
    assert.equal(Object.values(plain.nested.Resources).filter((r) => r.Type === 'AWS::Lambda::Function').length, 0, 'no forwarder');
    assert.equal(plain.stack.monitoring.forwarder, undefined);
    const byProtocol = Object.fromEntries(subs(full).map((r) => [r.Properties.Protocol, r.Properties.Endpoint]));
    assert.deepEqual(Object.keys(byProtocol).sort(), ['email', 'lambda']);
    assert.equal(byProtocol.email, 'oncall@example.com');
    // SNS invokes the forwarder's live alias, like every caller of every function
    assert.match(JSON.stringify(byProtocol.lambda), /^\{"Ref":"AlarmForwarderLive[0-9A-F]+"\}$/);
    // Each without the other (the construct tree is enough: no need to synthesize again).
    const protocols = (context: Record<string, unknown>) =>
      buildApp(context)
        .stack.monitoring.node.findAll()
        .filter((c): c is CfnSubscription => c instanceof CfnSubscription)
        .map((c) => c.protocol);
    assert.deepEqual(protocols({ alarmEmail: 'ops@example.com' }), ['email']);
    assert.deepEqual(protocols({ alarmWebhookSecretArn: SECRET_ARN }), ['lambda']);
  });
});

function forwarderId(): string {
  const fns = Object.entries(full.nested.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  assert.equal(fns.length, 1, 'one function in the nested stack: the forwarder');
  return fns[0]![0];
}

describe('the chat webhook forwarder', () => {
  it('is made like every function: own role (log group, X-Ray and the one secret only), own log group, 24.x on arm64', () => {
    const r = full.nested.Resources;
    const fn = r[forwarderId()]!.Properties;
    assert.equal(fn.Runtime, 'nodejs24.x');
    assert.deepEqual(fn.Architectures, ['arm64']);
    assert.deepEqual(fn.TracingConfig, { Mode: 'Active' });
    assert.equal(r[fn.LoggingConfig.LogGroup.Ref]?.Type, 'AWS::Logs::LogGroup');
    assert.ok(r[fn.LoggingConfig.LogGroup.Ref]!.Properties.RetentionInDays > 0);
    const roleId = fn.Role['Fn::GetAtt'][0];
    assert.equal(r[roleId]!.Properties.ManagedPolicyArns, undefined, 'no managed policies');
    const statements = policyStatements(r, roleId);
    const actions = statements.flatMap((st) => asArray<string>(st.Action)).sort();
    assert.deepEqual(actions, [
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    const secretStatement = statements.find((st) => asArray<string>(st.Action).includes('secretsmanager:GetSecretValue'));
    assert.equal(secretStatement.Resource, SECRET_ARN, 'exactly the configured secret');
    assert.equal(fn.Environment.Variables.ALARM_WEBHOOK_SECRET_ARN, SECRET_ARN);
    assert.equal(fn.Environment.Variables.ALARM_WEBHOOK_FORMAT, 'teams');
    assert.ok(fn.Layers?.length === 1, 'the Parameters and Secrets extension reads the secret (no SDK client in the bundle)');
    const permission = Object.values(r).find((x) => x.Type === 'AWS::Lambda::Permission')!.Properties;
    assert.equal(permission.Principal, 'sns.amazonaws.com');
    // written as GetAtt, which cfn-guard's plugin can read (it fails on a Ref there)
    assert.deepEqual(
      permission.SourceArn,
      { 'Fn::GetAtt': [Object.entries(r).find(([, x]) => x.Type === 'AWS::SNS::Topic')![0], 'TopicArn'] },
      'invoked by the alarm topic only',
    );
    const own = alarmNamed(full, 'AlarmForwarder-Errors');
    assert.deepEqual([own.MetricName, own.Threshold, own.Dimensions[0].Value], ['Errors', 1, { Ref: forwarderId() }]);
  });

  it('the webhook URL never enters a template: context takes a secret ARN, and a URL given instead fails without being echoed', () => {
    const url = 'https://hooks.slack.com/services/T0000/B0000/abcdefSEKRIT';
    assert.throws(
      () => buildApp({ alarmWebhookSecretArn: url }),
      (e: Error) => /context "alarmWebhookSecretArn" looks like the webhook URL itself/.test(e.message) && !e.message.includes('SEKRIT'),
    );
    for (const s of [full.template.toJSON(), full.nested]) {
      const text = JSON.stringify(s);
      assert.doesNotMatch(text, /hooks\.slack\.com|webhook\.office\.com|hooks\.chime\.aws|logic\.azure\.com/);
      const urls = [...text.matchAll(/https:\/\/[^"\\]+/g)].map((m) => m[0]);
      assert.ok(
        urls.every((u) => /^https:\/\/(console\.aws\.amazon\.com\/cloudwatch\/|s3\.$)/.test(u) || u === 'https://'),
        `only the console, the API URLs (https:// + a reference) and the nested template's S3 URL: ${urls.join(' ')}`,
      );
    }
  });
});

describe('service alarms', () => {
  it('account concurrency: ConcurrentExecutions (no dimensions, peak per minute) at 80% of the context limit for 3 minutes', () => {
    for (const [s, threshold] of [
      [plain, 800],
      [full, 2400],
    ] as const) {
      const a = alarmNamed(s, 'Lambda-Concurrency');
      assert.deepEqual(statsOf(a), [{ namespace: 'AWS/Lambda', name: 'ConcurrentExecutions', dims: {}, stat: 'Maximum', period: 60 }]);
      assert.deepEqual([a.Threshold, a.EvaluationPeriods, a.DatapointsToAlarm], [threshold, 3, 3]);
    }
  });

  it('HTTP API: 5xx as a percentage of requests (metric math, with a minimum volume) and p99 latency, on our API', () => {
    const httpApi = logicalId(plain, plain.stack.httpApi);
    const rate = alarmNamed(plain, 'HttpApi-5xxRate');
    const stats = statsOf(rate);
    assert.deepEqual(stats.map((m) => m.name).sort(), ['5xx', 'Count']);
    for (const m of stats) {
      assert.equal(m.namespace, 'AWS/ApiGateway');
      assert.equal(mainTarget(plain, m.dims.ApiId), httpApi);
      assert.deepEqual([m.stat, m.period], ['Sum', 300]);
    }
    const idOf = (n: string) => asArray<Json>(rate.Metrics).find((m) => m.MetricStat?.Metric.MetricName === n).Id;
    assert.equal(expressionOf(rate), `IF(${idOf('Count')} >= 20, 100 * FILL(${idOf('5xx')}, 0) / ${idOf('Count')}, 0)`);
    assert.equal(rate.Threshold, 5);
    const latency = alarmNamed(plain, 'HttpApi-LatencyP99');
    const [l] = statsOf(latency);
    assert.deepEqual(
      [statsOf(latency).length, l!.namespace, l!.name, l!.stat, l!.period, Object.keys(l!.dims)],
      [1, 'AWS/ApiGateway', 'Latency', 'p99', 300, ['ApiId']],
    );
    assert.equal(mainTarget(plain, l!.dims.ApiId), httpApi);
    assert.deepEqual([latency.Threshold, latency.EvaluationPeriods], [3000, 3]);
  });

  it('WebSocket API: integration error rate on the stage, and failed $connects from route-level metrics enabled on $connect only', () => {
    const wsApi = logicalId(plain, plain.stack.webSocketApi);
    const stage = plain.stack.webSocketStage.stageName;
    const integration = alarmNamed(plain, 'WebSocket-IntegrationErrorRate');
    for (const m of statsOf(integration)) {
      assert.equal(mainTarget(plain, m.dims.ApiId), wsApi);
      assert.equal(m.dims.Stage, stage);
      assert.equal(m.dims.Route, undefined, 'stage-wide');
    }
    assert.deepEqual(
      statsOf(integration)
        .map((m) => m.name)
        .sort(),
      ['ConnectCount', 'IntegrationError', 'MessageCount'],
    );
    assert.equal(integration.Threshold, 5);

    const connect = alarmNamed(plain, 'WebSocket-ConnectFailureRate');
    const byName = Object.fromEntries(statsOf(connect).map((m) => [m.name, m.dims]));
    assert.deepEqual(Object.keys(byName).sort(), ['ClientError', 'ConnectCount', 'ExecutionError', 'IntegrationError']);
    for (const n of ['ClientError', 'ExecutionError', 'IntegrationError']) assert.equal(byName[n]!.Route, '$connect', `${n} of $connect only`);
    assert.equal(byName.ConnectCount!.Route, undefined, 'ConnectCount is per stage');
    assert.match(expressionOf(connect), /^IF\(.* >= 20, 100 \* \(.*\) \/ \(.*\), 0\)$/);
    assert.equal(connect.Threshold, 20);

    const settings = res(plain, logicalId(plain, plain.stack.webSocketStage)).Properties.RouteSettings;
    assert.equal(settings.$connect.DetailedMetricsEnabled, true, 'API Gateway sends route metrics only where enabled');
    assert.ok(settings.$connect.ThrottlingRateLimit > 0, 'the route throttle is kept');
    for (const [key, value] of Object.entries<Json>(settings)) if (key !== '$connect') assert.equal(value.DetailedMetricsEnabled, undefined, key);
  });

  it('DynamoDB: throttled requests and system errors per table, summed over the operations we use (never Scan, at most 10 metrics)', () => {
    const operations = ['BatchGetItem', 'BatchWriteItem', 'DeleteItem', 'GetItem', 'PutItem', 'Query', 'TransactGetItems', 'TransactWriteItems', 'UpdateItem'];
    for (const t of tables) {
      const name = t.id.charAt(0).toUpperCase() + t.id.slice(1);
      const tableId = logicalId(plain, plain.stack.tables[t.id]);
      for (const [suffix, metric, threshold] of [
        ['ThrottledRequests', 'ThrottledRequests', 10],
        ['SystemErrors', 'SystemErrors', 5],
      ] as const) {
        const a = alarmNamed(plain, `DynamoDB-${name}-${suffix}`);
        const stats = statsOf(a);
        assert.ok(stats.length <= 10, 'CloudWatch alarms take at most 10 metrics');
        assert.deepEqual(stats.map((m) => m.dims.Operation).sort(), operations, `${t.id} ${metric}`);
        for (const m of stats) {
          assert.deepEqual([m.namespace, m.name, m.stat], ['AWS/DynamoDB', metric, 'Sum']);
          assert.equal(mainTarget(plain, m.dims.TableName), tableId, `${t.id}: its own table`);
        }
        assert.match(expressionOf(a), /^SUM\(\[.+\]\)$/, 'adds whichever operations report');
        assert.deepEqual([a.Threshold, a.TreatMissingData], [threshold, 'notBreaching']);
      }
    }
  });

  it('SES reputation alarms fire before AWS reviews the account (5% bounces, 0.1% complaints); a gap keeps their state', () => {
    const bounce = alarmNamed(plain, 'SES-BounceRate');
    const complaint = alarmNamed(plain, 'SES-ComplaintRate');
    assert.deepEqual(statsOf(bounce), [{ namespace: 'AWS/SES', name: 'Reputation.BounceRate', dims: {}, stat: 'Maximum', period: 3600 }]);
    assert.deepEqual(statsOf(complaint), [{ namespace: 'AWS/SES', name: 'Reputation.ComplaintRate', dims: {}, stat: 'Maximum', period: 3600 }]);
    assert.ok(bounce.Threshold > 0 && bounce.Threshold < 0.05, `bounce ${bounce.Threshold}`);
    assert.ok(complaint.Threshold > 0 && complaint.Threshold < 0.001, `complaint ${complaint.Threshold}`);
    assert.equal(bounce.TreatMissingData, 'ignore');
    assert.equal(complaint.TreatMissingData, 'ignore');
  });

  it('SMS spend: month-to-date USD at 80% of the context budget (1 USD by default)', () => {
    for (const [s, threshold] of [
      [plain, 0.8],
      [full, 16],
    ] as const) {
      const a = alarmNamed(s, 'SNS-SmsMonthlySpend');
      assert.deepEqual(statsOf(a), [{ namespace: 'AWS/SNS', name: 'SMSMonthToDateSpentUSD', dims: {}, stat: 'Maximum', period: 300 }]);
      assert.deepEqual([a.Threshold, a.TreatMissingData], [threshold, 'ignore']);
    }
  });

  it('every alarm has a name after the stack and a description of what it means; no two share a name', () => {
    for (const { name, s } of apps()) {
      const names = alarms(s).map(([, a]) => a.Properties.AlarmName as string);
      assert.equal(new Set(names).size, names.length, name);
      for (const [id, a] of alarms(s)) {
        assert.ok(a.Properties.AlarmName.startsWith(`${s.stack.stackName}-`), `${name} ${id}`);
        assert.ok(a.Properties.AlarmDescription.length >= 80 && a.Properties.AlarmDescription.length <= 1024, `${name} ${id}: described`);
      }
    }
    const count = 3 * Object.keys(plain.stack.functions).length + 1 + 2 + 2 + 2 * tables.length + 2 + 1;
    assert.equal(alarms(plain).length, count, 'functions, concurrency, HTTP, WebSocket, tables, SES, SMS');
    assert.equal(alarms(full).length, 3 * Object.keys(full.stack.functions).length + 1 + 2 + 2 + 2 * tables.length + 2 + 1 + 1, 'and the forwarder');
  });
});

describe('dashboard', () => {
  it('graphs both APIs, every function, every table, the business metrics, SES and SMS, named after the stack', () => {
    const dashboards = Object.values(plain.nested.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    assert.deepEqual(dashboards[0]!.Properties.DashboardName, { 'Fn::Join': ['', ['NexChat-dev-', { Ref: 'AWS::Region' }]] });
    const body = dashboardBody(plain);
    const metrics: Json[][] = body.widgets.flatMap((w: Json) => asArray<Json>(w.properties?.metrics));
    const has = (pred: (m: Json[]) => boolean) => metrics.some(pred);
    const text = JSON.stringify(body);
    for (const n of ['Count', '5xx', '4xx', 'Latency', 'IntegrationLatency']) {
      assert.ok(
        has((m) => m[0] === 'AWS/ApiGateway' && m[1] === n && m[3] === `<${logicalId(plain, plain.stack.httpApi)}>`),
        `HTTP ${n}`,
      );
    }
    for (const n of ['ConnectCount', 'MessageCount', 'IntegrationError', 'ClientError']) {
      assert.ok(
        has((m) => m[0] === 'AWS/ApiGateway' && m[1] === n && m[3] === `<${logicalId(plain, plain.stack.webSocketApi)}>`),
        `WebSocket ${n}`,
      );
    }
    for (const made of Object.values(plain.stack.functions)) {
      const ref = `<${logicalId(plain, made.function)}>`;
      for (const n of ['Errors', 'Throttles', 'Duration'])
        assert.ok(
          has((m) => m[0] === 'AWS/Lambda' && m[1] === n && m.includes(ref)),
          `${made.spec.id} ${n}`,
        );
    }
    assert.ok(has((m) => m[0] === 'AWS/Lambda' && m[1] === 'ConcurrentExecutions'));
    for (const t of tables) {
      const ref = `<${logicalId(plain, plain.stack.tables[t.id])}>`;
      for (const n of ['ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits', 'ThrottledRequests']) {
        assert.ok(
          has((m) => m[0] === 'AWS/DynamoDB' && m[1] === n && m.includes(ref)),
          `${t.id} ${n}`,
        );
      }
    }
    for (const n of ['MessagesSent', 'OtpsSent', 'LoginFailures', 'ReportsFiled']) {
      assert.ok(
        // the EMF lines' dimensions: service and this stage (another stage in the account stays out)
        has((m) => m[0] === 'NexChat' && m[1] === n && m.includes('service') && m.includes('nexchat') && m.includes('stage') && m.includes(plain.stack.stage)),
        `business metric ${n}`,
      );
    }
    assert.ok(has((m) => m[0] === 'AWS/SES' && m[1] === 'Reputation.BounceRate'));
    assert.ok(has((m) => m[0] === 'AWS/SNS' && m[1] === 'SMSMonthToDateSpentUSD'));
    assert.ok(
      has((m) => m[0] === 'AWS/SQS' && m[3] === `<${logicalId(plain, plain.stack.queues.otp.deadLetters)}>`),
      'the OTP dead-letter queue',
    );
    assert.ok(text.length < 100_000, `dashboard body ${text.length} characters`);
  });
});

describe('context', () => {
  const settingsFor = (context: Record<string, unknown>) => readMonitoringSettings(new App({ context }).node);

  it('defaults: no subscribers, 1,000 concurrent executions, 1 USD of SMS; numbers come as numbers or strings', () => {
    assert.deepEqual(settingsFor({}), defaultMonitoringSettings);
    assert.deepEqual(defaultMonitoringSettings, { lambdaConcurrencyLimit: 1000, smsMonthlyBudgetUsd: 1 });
    assert.deepEqual(settingsFor({ lambdaConcurrencyLimit: '2500', smsMonthlyBudgetUsd: '12.5' }), { lambdaConcurrencyLimit: 2500, smsMonthlyBudgetUsd: 12.5 });
    assert.deepEqual(settingsFor({ alarmWebhookSecretArn: SECRET_ARN }).webhook, { secretArn: SECRET_ARN, format: 'slack' });
  });

  it('an invalid value fails synth with a message naming the key', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ alarmEmail: 'ops' }, /context "alarmEmail" must be a bare email address/],
      [{ alarmEmail: 'Ops <ops@example.com>' }, /context "alarmEmail"/],
      [{ alarmWebhookSecretArn: 'nexchat/alarm-webhook' }, /context "alarmWebhookSecretArn" must be the complete ARN/],
      [{ alarmWebhookSecretArn: SECRET_ARN.replace(/-AbCdEf$/, '') }, /context "alarmWebhookSecretArn"/],
      [{ alarmWebhookSecretArn: SECRET_ARN, alarmWebhookFormat: 'discord' }, /context "alarmWebhookFormat" must be one of "slack", "teams", "chime"/],
      [{ alarmWebhookFormat: 'slack' }, /context "alarmWebhookFormat" is set but "alarmWebhookSecretArn" is not/],
      [{ lambdaConcurrencyLimit: '1k' }, /context "lambdaConcurrencyLimit" must be a positive whole number/],
      [{ lambdaConcurrencyLimit: 10.5 }, /context "lambdaConcurrencyLimit"/],
      [{ lambdaConcurrencyLimit: 0 }, /context "lambdaConcurrencyLimit"/],
      [{ smsMonthlyBudgetUsd: '-1' }, /context "smsMonthlyBudgetUsd" must be a positive number/],
      [{ smsMonthlyBudgetUsd: true }, /context "smsMonthlyBudgetUsd"/],
    ];
    for (const [context, message] of bad) {
      assert.throws(() => settingsFor(context), message, JSON.stringify(context));
      assert.throws(() => buildApp(context), message, `the real app refuses ${JSON.stringify(context)} too`);
    }
  });
});

describe('cdk-nag and resource budget', () => {
  it('synthesis reports no unsuppressed finding in either template', () => {
    for (const { name, s } of apps()) {
      assert.deepEqual(violationLines(s.report, ['error', 'fatal', 'warning']), [], name);
    }
  });

  it('the validation plugins see the nested stack: a non-compliant resource there fails synthesis', () => {
    const { app, stack } = buildApp();
    new Queue(stack.monitoring, 'UnencryptedQueueWithoutDlq');
    const consoleError = console.error;
    console.error = () => undefined;
    try {
      assert.throws(() => app.synth(), /Validation failed/);
    } finally {
      console.error = consoleError;
    }
  });

  it('every acknowledgement in the nested stack names one resource and one rule, with a reason, and matches a real finding', () => {
    const raw = rawNagFindings(() => buildApp(fullContext, full.routes));
    // cdk-nag's only: the Control Tower (cfn-guard) ones are checked by tests/infra/guard.test.ts.
    const acks = acknowledgements(full.stack.monitoring).filter((a) => !isControlTowerAcknowledgement(a));
    assert.ok(acks.length >= 4, 'subscriptions (no redrive), forwarder (DLQ, X-Ray wildcard)');
    for (const ack of acks) {
      const where = `${ack.rule} @ ${ack.construct.node.path}`;
      assert.ok(CfnResource.isCfnResource(ack.construct), `${where}: one CloudFormation resource`);
      assert.ok(ack.reason.length >= 40, `${where}: has a reason`);
      assert.ok(
        raw.some((f) => f.rule === ack.rule && f.path === ack.construct.node.path),
        `${where}: suppresses a real finding`,
      );
    }
  });

  it('the main template grows by one resource (the nested stack); the nested one stays far from every CloudFormation limit', () => {
    for (const { name, s } of apps()) {
      // s.resources includes the functions' area stacks (flattenedTemplate): count the main template alone
      const mainCount = Object.keys(Template.fromStack(s.stack).toJSON().Resources).length;
      const inMain = s.stack.node
        .findAll()
        .filter((c): c is CfnResource => CfnResource.isCfnResource(c) && c.stack === s.stack && c.node.path.startsWith(`${s.stack.node.path}/Monitoring`));
      assert.deepEqual(
        inMain.map((c) => c.cfnResourceType),
        ['AWS::CloudFormation::Stack'],
        `${name}: the nested stack is all monitoring adds to the main template (the budget: ~10)`,
      );
      assert.ok(mainCount < 500, `${name}: main ${mainCount}`);
      const nestedCount = Object.keys(s.nested.Resources).length;
      assert.ok(nestedCount <= 250, `${name}: nested ${nestedCount} (limit 500)`);
      assert.ok(Object.keys(s.nested.Parameters ?? {}).length <= 150, `${name}: parameters (limit 200)`);
      assert.ok(Object.keys(s.nested.Outputs ?? {}).length <= 20, `${name}: outputs (limit 200; canary alarms will add some)`);
      assert.ok(JSON.stringify(s.nested).length < 500_000, `${name}: template size (limit 1 MB)`);
      console.log(`# ${name}: main template ${mainCount} resources, nested ${nestedCount}`);
    }
  });
});
