// Monitoring: one stage's alarm topic, alarms and dashboard, in a nested stack so that ~160 resources
// stay out of the main template (CloudFormation's limit is 500 per template). Context keys for it are
// read and checked here (readMonitoringSettings), like bin/nexchat.ts reads the others.
//
// Plain aws-cloudwatch rather than cdk-monitoring-constructs: the facade would give the same alarm
// count, but fixed descriptions ("P99 latency is too high."), one missing-data policy per alarm kind,
// a dashboard of ~250 KB for our 43 functions, and nothing for WebSocket APIs, SES reputation or SMS
// spend, which would have needed plain CloudWatch anyway.
import { Aws, CfnOutput, Duration, NestedStack, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { CfnStage, IHttpApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
  type IAlarm,
  type IMetric,
  type IWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Operation, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { CfnPermission } from 'aws-cdk-lib/aws-lambda';
import { createLogKey, denyGrantsExceptAwsServices } from './log-key.ts';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { CfnTopic, Topic, type Subscription } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription, LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct, type Node } from 'constructs';
import { EMAIL_PATTERN, readOptionalString } from '../context.ts';
import { isWebhookFormat, webhookFormats, type WebhookFormat } from '../../contract/internal/alarm-webhook.ts';
import type { TableId } from '../tables.ts';
import { DEFAULT_TIMEOUT_SECONDS, RouteFunction, SERVICE_NAME, type DeploymentSettings, type FunctionSpec } from './route-function.ts';

// ---- settings (context) -------------------------------------------------------------------------

export interface MonitoringSettings {
  /** Subscribed to the alarm topic (context alarmEmail); AWS mails a confirmation link first. */
  readonly alarmEmail?: string;
  /** Chat webhook: its URL lives in this Secrets Manager secret (context alarmWebhookSecretArn, alarmWebhookFormat). */
  readonly webhook?: { readonly secretArn: string; readonly format: WebhookFormat };
  /** The account's Lambda concurrency quota in this region (context lambdaConcurrencyLimit). */
  readonly lambdaConcurrencyLimit: number;
  /** SNS's monthly SMS spend limit for the account, in USD (context smsMonthlyBudgetUsd). */
  readonly smsMonthlyBudgetUsd: number;
}

/** AWS's defaults: 1,000 concurrent executions per region; an SMS spend limit of 1 USD a month. */
export const defaultMonitoringSettings: MonitoringSettings = { lambdaConcurrencyLimit: 1000, smsMonthlyBudgetUsd: 1 };

/** A complete secret ARN (with the 6-character suffix Secrets Manager adds), so the grant names exactly one secret. */
const SECRET_ARN_PATTERN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;

/**
 * Context -> monitoring settings: alarmEmail, alarmWebhookSecretArn, alarmWebhookFormat (default
 * slack), lambdaConcurrencyLimit (default 1000), smsMonthlyBudgetUsd (default 1). Throws, naming the
 * key, on anything else.
 */
export function readMonitoringSettings(node: Node): MonitoringSettings {
  const webhookValue: unknown = node.tryGetContext('alarmWebhookSecretArn');
  if (typeof webhookValue === 'string' && /^\s*https?:/i.test(webhookValue)) {
    // Not echoed: whoever can read the URL can post to the channel, and it would end up in CI logs.
    throw new Error(
      'context "alarmWebhookSecretArn" looks like the webhook URL itself: store the URL in a Secrets Manager secret and pass the secret\'s ARN, so it never enters the template',
    );
  }
  const alarmEmail = readOptionalString(node, 'alarmEmail', EMAIL_PATTERN, 'a bare email address, e.g. ops@example.com');
  const secretArn = readOptionalString(
    node,
    'alarmWebhookSecretArn',
    SECRET_ARN_PATTERN,
    'the complete ARN of a Secrets Manager secret holding the webhook URL, e.g. arn:aws:secretsmanager:eu-west-1:123456789012:secret:nexchat/alarm-webhook-AbCdEf',
  );
  const format: unknown = node.tryGetContext('alarmWebhookFormat');
  if (format !== undefined && !isWebhookFormat(format)) {
    throw new Error(`context "alarmWebhookFormat" must be one of ${webhookFormats.map((f) => `"${f}"`).join(', ')}; got ${JSON.stringify(format)}`);
  }
  if (format !== undefined && !secretArn)
    throw new Error('context "alarmWebhookFormat" is set but "alarmWebhookSecretArn" is not: there is no webhook to post to');
  const lambdaConcurrencyLimit = readNumber(node, 'lambdaConcurrencyLimit', true) ?? defaultMonitoringSettings.lambdaConcurrencyLimit;
  const smsMonthlyBudgetUsd = readNumber(node, 'smsMonthlyBudgetUsd', false) ?? defaultMonitoringSettings.smsMonthlyBudgetUsd;
  return {
    ...(alarmEmail ? { alarmEmail } : {}),
    ...(secretArn ? { webhook: { secretArn, format: format ?? 'slack' } } : {}),
    lambdaConcurrencyLimit,
    smsMonthlyBudgetUsd,
  };
}

/** A positive number, from cdk.json (a number) or -c key=value (a string). */
function readNumber(node: Node, key: string, integer: boolean): number | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`context "${key}" must be a positive ${integer ? 'whole number' : 'number'}; got ${JSON.stringify(value)}`);
  }
  return n;
}

// ---- thresholds -----------------------------------------------------------------------------------

const FIVE_MINUTES = Duration.minutes(5);

/** What sets each alarm off; the operator guide (docs/operations.md) lists the same numbers. */
export const thresholds = {
  /** Unhandled Lambda errors in 5 minutes: handlers answer expected failures, so these are bugs, timeouts or crashes. */
  functionErrors: 3,
  /** Throttled invocations in 5 minutes: any is a refused request. */
  functionThrottles: 1,
  /** p99 duration as a share of the function's own timeout, for 2 of 3 five-minute periods. */
  durationShareOfTimeout: 0.8,
  /** Share of the account's concurrency limit (peak per minute, 3 minutes running). */
  concurrencyShare: 0.8,
  /** HTTP 5xx as a percentage of requests in 5 minutes, once there are at least minRequests. */
  http5xxPercent: 5,
  /** HTTP p99 latency in ms, for 3 five-minute periods running. */
  httpLatencyP99Ms: 3000,
  /** WebSocket integration errors as a percentage of connects and messages (both ways) in 5 minutes. */
  wsIntegrationErrorPercent: 5,
  /** Failed $connects (refused by the gateway or the handler) as a percentage of attempts in 5 minutes. */
  wsConnectFailurePercent: 20,
  /** Rates are judged only on at least this many requests in the period: 1 failure in 3 is no trend. */
  minRequests: 20,
  /** DynamoDB throttled requests per table in 5 minutes (the SDK retries; past this, users get 503s). */
  dynamoThrottledRequests: 10,
  /** DynamoDB internal errors per table in 5 minutes. */
  dynamoSystemErrors: 5,
  /** SES account bounce rate (a fraction): AWS puts the account under review at 5%. */
  sesBounceRate: 0.03,
  /** SES account complaint rate (a fraction): AWS puts the account under review at 0.1%. */
  sesComplaintRate: 0.0005,
  /** Share of the monthly SMS budget spent: at 100% SNS stops sending, and SMS codes stop arriving. */
  smsBudgetShare: 0.8,
} as const;

/** The operations our functions call (lib/constructs/route-function.ts grants; never Scan): at most 10 metrics per alarm. */
const DYNAMO_OPERATIONS = [
  Operation.GET_ITEM,
  Operation.BATCH_GET_ITEM,
  Operation.QUERY,
  Operation.PUT_ITEM,
  Operation.UPDATE_ITEM,
  Operation.DELETE_ITEM,
  Operation.BATCH_WRITE_ITEM,
  Operation.TRANSACT_WRITE_ITEMS,
  Operation.TRANSACT_GET_ITEMS,
] as const;

/** The namespace and dimension of the business metrics the functions emit (EMF, Powertools Metrics). */
export const BUSINESS_NAMESPACE = 'NexChat';
export const businessMetrics = ['MessagesSent', 'OtpsSent', 'LoginFailures', 'ReportsFiled'] as const;

/** The WebSocket route whose failures get their own alarm (its metrics are enabled per route). */
export const CONNECT_ROUTE = '$connect';

/** The forwarder of alarm notifications to a chat webhook; made only when a webhook is configured. */
export const alarmForwarderSpec: FunctionSpec = {
  id: 'AlarmForwarder',
  handler: 'functions/topic/forward-alarm.ts',
  description: 'alarm topic: posts each alarm notification to the chat webhook named by a Secrets Manager secret',
  tables: {},
  secrets: ['alarmWebhook'],
  trigger: 'topic',
};
/** Env var naming the webhook's body shape (functions/wiring/alarm-forwarder.ts reads it). */
export const WEBHOOK_FORMAT_ENV = 'ALARM_WEBHOOK_FORMAT';

// ---- the nested stack -------------------------------------------------------------------------------

export interface MonitoringProps {
  readonly stage: string;
  readonly settings: MonitoringSettings;
  /** The stack's functions by id: each gets errors, throttles and duration alarms. */
  readonly functions: Readonly<Record<string, RouteFunction>>;
  readonly tables: Readonly<Record<TableId, ITable>>;
  readonly httpApi: IHttpApi;
  readonly webSocketStage: WebSocketStage;
  /** The stage's function settings: the forwarder is made like every other function. */
  readonly deploymentSettings: DeploymentSettings;
  /**
   * Alarms made in the main stack that notify the topic too (the OTP dead-letter alarm). The
   * dashboard graphs their metrics but cannot list the alarms: they depend on this stack's topic.
   */
  readonly alsoNotify?: readonly Alarm[];
}

interface AlarmSpec {
  readonly metric: IMetric;
  readonly threshold: number;
  readonly description: string;
  readonly treatMissingData: TreatMissingData;
  readonly evaluationPeriods?: number;
  readonly datapointsToAlarm?: number;
}

/** A function's alarms, in this order. */
export interface FunctionAlarms {
  readonly errors: Alarm;
  readonly throttles: Alarm;
  readonly duration: Alarm;
}

export class Monitoring extends NestedStack {
  /** Every alarm notifies it, on ALARM and on OK. Encrypted with its own key, TLS only. */
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  /** Posts alarm notifications to the chat webhook (only with context alarmWebhookSecretArn). */
  readonly forwarder?: RouteFunction;
  /** Every alarm made here, functions' included. */
  readonly alarms: Alarm[] = [];
  private readonly byFunction = new Map<string, FunctionAlarms>();
  /** Alarm and dashboard names start with the main stack's name: two stages never collide. */
  private readonly prefix: string;
  private readonly stage: string;
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id, { description: `NexChat ${props.stage}: alarms, alarm topic and dashboard` });
    const parent = Stack.of(scope);
    this.prefix = parent.stackName;
    this.stage = props.stage;
    const { settings } = props;

    this.topic = this.createTopic();
    this.action = new SnsAction(this.topic);
    if (settings.alarmEmail) this.acknowledgeNoRedrive(this.topic.addSubscription(new EmailSubscription(settings.alarmEmail)));
    if (settings.webhook) this.forwarder = this.createForwarder(settings.webhook, props);
    for (const alarm of props.alsoNotify ?? []) this.notify(alarm);

    // --- per function --------------------------------------------------------------------------
    // Metrics by FunctionName only (every version), never an alias: a CodeDeploy deployment group in
    // the main stack may then use these alarms (through nested-stack outputs) without a cycle. Were an
    // alarm to name an alias, this stack would depend on the alias, the alias (its update policy) on
    // the deployment group, and the deployment group on this stack's outputs.
    const functionScope = new Construct(this, 'Functions');
    for (const [fnId, made] of Object.entries(props.functions)) this.byFunction.set(fnId, this.functionAlarms_(functionScope, fnId, made));

    // --- account-wide Lambda concurrency ------------------------------------------------------------
    const concurrencyThreshold = Math.floor(thresholds.concurrencyShare * settings.lambdaConcurrencyLimit);
    const concurrency = new Metric({ namespace: 'AWS/Lambda', metricName: 'ConcurrentExecutions', statistic: 'Maximum', period: Duration.minutes(1) });
    const concurrencyAlarm = this.alarm(this, 'LambdaConcurrency', 'Lambda-Concurrency', {
      metric: concurrency,
      threshold: concurrencyThreshold,
      evaluationPeriods: 3,
      description: `the account's Lambda functions in this region (all stacks) ran at ${pct(thresholds.concurrencyShare)} or more of the ${settings.lambdaConcurrencyLimit} concurrent executions limit for 3 minutes; at the limit every function is throttled. Ask for a higher quota or find what is using it.`,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    // --- HTTP API -----------------------------------------------------------------------------------
    const api = props.httpApi;
    const requests = api.metricCount({ statistic: 'Sum', period: FIVE_MINUTES, label: 'requests' });
    const http5xx = api.metricServerError({ statistic: 'Sum', period: FIVE_MINUTES, label: '5xx' });
    const http5xxRate = new MathExpression({
      expression: `IF(requests >= ${thresholds.minRequests}, 100 * FILL(errors, 0) / requests, 0)`,
      usingMetrics: { requests, errors: http5xx },
      label: '5xx % of requests',
      period: FIVE_MINUTES,
    });
    const http5xxAlarm = this.alarm(this, 'HttpApi5xxRate', 'HttpApi-5xxRate', {
      metric: http5xxRate,
      threshold: thresholds.http5xxPercent,
      description: `${thresholds.http5xxPercent}% or more of HTTP API requests got a 5xx in 5 minutes (of at least ${thresholds.minRequests}): failing functions, throttled DynamoDB (503) or Lambda throttles.`,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const httpLatency = api.metricLatency({ statistic: 'p99', period: FIVE_MINUTES, label: 'p99 latency' });
    const httpLatencyAlarm = this.alarm(this, 'HttpApiLatencyP99', 'HttpApi-LatencyP99', {
      metric: httpLatency,
      threshold: thresholds.httpLatencyP99Ms,
      evaluationPeriods: 3,
      description: `HTTP API p99 latency was ${thresholds.httpLatencyP99Ms} ms or more for 15 minutes: slow functions, cold starts under a burst, or slow DynamoDB.`,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    // --- WebSocket API --------------------------------------------------------------------------------
    // API-level metrics cannot tell a failed $connect apart: ConnectCount counts only the connects that
    // reached the handler, a connect refused by the ticket authorizer shows only in ClientError (mixed
    // with throttled frames), one refused by the handler in IntegrationError (mixed with message routes).
    // So $connect gets route-level (detailed) metrics, which API Gateway sends only when enabled on it.
    const ws = props.webSocketStage;
    (ws.node.defaultChild as CfnStage).addPropertyOverride(`RouteSettings.${CONNECT_ROUTE}.DetailedMetricsEnabled`, true);
    const wsMetric = (metricName: string, label: string, route?: string) =>
      new Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: ws.api.apiId, Stage: ws.stageName, ...(route ? { Route: route } : {}) },
        statistic: 'Sum',
        period: FIVE_MINUTES,
        label,
      });
    const connects = wsMetric('ConnectCount', 'connects');
    const messages = wsMetric('MessageCount', 'messages');
    const wsIntegrationErrors = wsMetric('IntegrationError', 'integration errors');
    // MessageCount counts frames both ways (our @connections pushes too), so this is a share of all traffic.
    const wsIntegrationErrorRate = new MathExpression({
      expression: `IF(FILL(connects, 0) + FILL(messages, 0) >= ${thresholds.minRequests}, 100 * FILL(errors, 0) / (FILL(connects, 0) + FILL(messages, 0)), 0)`,
      usingMetrics: { connects, messages, errors: wsIntegrationErrors },
      label: 'integration errors % of connects and frames',
      period: FIVE_MINUTES,
    });
    const wsIntegrationAlarm = this.alarm(this, 'WebSocketIntegrationErrorRate', 'WebSocket-IntegrationErrorRate', {
      metric: wsIntegrationErrorRate,
      threshold: thresholds.wsIntegrationErrorPercent,
      description: `${thresholds.wsIntegrationErrorPercent}% or more of WebSocket traffic (connects, and frames both ways) was an error from a WebSocket function in 5 minutes (of at least ${thresholds.minRequests}): a failing or throttled WebSocket function, or $connect refusing many clients.`,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const refused = wsMetric('ClientError', '$connect refused by the gateway', CONNECT_ROUTE);
    const connectIntegrationErrors = wsMetric('IntegrationError', '$connect refused by the handler', CONNECT_ROUTE);
    const connectExecutionErrors = wsMetric('ExecutionError', '$connect not run', CONNECT_ROUTE);
    const connectFailureRate = new MathExpression({
      expression: `IF(FILL(connects, 0) + FILL(refused, 0) >= ${thresholds.minRequests}, 100 * (FILL(refused, 0) + FILL(failed, 0) + FILL(broken, 0)) / (FILL(connects, 0) + FILL(refused, 0)), 0)`,
      usingMetrics: { connects, refused, failed: connectIntegrationErrors, broken: connectExecutionErrors },
      label: 'failed $connect % of attempts',
      period: FIVE_MINUTES,
    });
    const wsConnectAlarm = this.alarm(this, 'WebSocketConnectFailureRate', 'WebSocket-ConnectFailureRate', {
      metric: connectFailureRate,
      threshold: thresholds.wsConnectFailurePercent,
      description: `${thresholds.wsConnectFailurePercent}% or more of WebSocket connection attempts failed in 5 minutes (of at least ${thresholds.minRequests}): refused by the gateway (missing, used or expired tickets, a failing ticket authorizer, throttling) or by the $connect handler. Clients cannot go online.`,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    // --- DynamoDB, per table --------------------------------------------------------------------------
    const tableScope = new Construct(this, 'Tables');
    const throttled: [TableId, IMetric][] = [];
    const tableAlarms: Alarm[] = [];
    for (const [tableId, table] of Object.entries(props.tables) as [TableId, ITable][]) {
      const name = tableId.charAt(0).toUpperCase() + tableId.slice(1);
      const throttledRequests = sumOverOperations(table, tableId, 'ThrottledRequests', `${tableId} throttled requests`);
      throttled.push([tableId, throttledRequests]);
      tableAlarms.push(
        this.alarm(tableScope, `${name}Throttles`, `DynamoDB-${name}-ThrottledRequests`, {
          metric: throttledRequests,
          threshold: thresholds.dynamoThrottledRequests,
          description: `the ${tableId} table throttled ${thresholds.dynamoThrottledRequests} or more requests in 5 minutes (after SDK retries, callers get 503 throttled): a hot key, or traffic beyond on-demand's instant capacity (double the previous peak).`,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
        this.alarm(tableScope, `${name}SystemErrors`, `DynamoDB-${name}-SystemErrors`, {
          metric: sumOverOperations(table, tableId, 'SystemErrors', `${tableId} system errors`),
          threshold: thresholds.dynamoSystemErrors,
          description: `DynamoDB answered ${thresholds.dynamoSystemErrors} or more requests to the ${tableId} table with an internal error (HTTP 500) in 5 minutes: an AWS-side problem; check the AWS Health Dashboard.`,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    // --- SES reputation and SMS spend (account-wide, this region) -------------------------------------
    const bounceRate = new Metric({
      namespace: 'AWS/SES',
      metricName: 'Reputation.BounceRate',
      statistic: 'Maximum',
      period: Duration.hours(1),
      label: 'bounce rate',
    });
    const complaintRate = new Metric({
      namespace: 'AWS/SES',
      metricName: 'Reputation.ComplaintRate',
      statistic: 'Maximum',
      period: Duration.hours(1),
      label: 'complaint rate',
    });
    const smsSpend = new Metric({
      namespace: 'AWS/SNS',
      metricName: 'SMSMonthToDateSpentUSD',
      statistic: 'Maximum',
      period: FIVE_MINUTES,
      label: 'SMS spend (USD)',
    });
    const smsThreshold = Math.round(thresholds.smsBudgetShare * settings.smsMonthlyBudgetUsd * 100) / 100;
    // Reputation and spend are standing facts published now and then: a gap keeps the last state.
    const sesBounceAlarm = this.alarm(this, 'SesBounceRate', 'SES-BounceRate', {
      metric: bounceRate,
      threshold: thresholds.sesBounceRate,
      description: `the account's SES bounce rate reached ${pct(thresholds.sesBounceRate)}; AWS reviews the account at 5% and may pause sending at 10%, and OTP email would stop. Find where the bounces come from (sign-ups with made-up addresses?).`,
      treatMissingData: TreatMissingData.IGNORE,
    });
    const sesComplaintAlarm = this.alarm(this, 'SesComplaintRate', 'SES-ComplaintRate', {
      metric: complaintRate,
      threshold: thresholds.sesComplaintRate,
      description: `the account's SES complaint rate reached ${pct(thresholds.sesComplaintRate)}; AWS reviews the account at 0.1% and may pause sending at 0.5%, and OTP email would stop. Someone is being sent codes they did not ask for.`,
      treatMissingData: TreatMissingData.IGNORE,
    });
    const smsAlarm = this.alarm(this, 'SmsMonthlySpend', 'SNS-SmsMonthlySpend', {
      metric: smsSpend,
      threshold: smsThreshold,
      description: `SMS spend this month reached ${smsThreshold} USD, ${pct(thresholds.smsBudgetShare)} of the ${settings.smsMonthlyBudgetUsd} USD budget; at the account's SNS spend limit SMS stop going out and SMS codes never arrive. Raise the limit, or look for SMS pumping (many codes to unknown numbers).`,
      treatMissingData: TreatMissingData.IGNORE,
    });

    // --- dashboard --------------------------------------------------------------------------------------
    const fns = Object.entries(props.functions);
    const perFunction = (metric: (fn: RouteFunction) => IMetric) => fns.map(([fnId, fn]) => withLabel(metric(fn), fnId));
    const graph = (title: string, left: IMetric[], width = 8, leftAnnotationValue?: number) =>
      new GraphWidget({
        title,
        left,
        width,
        height: 6,
        ...(leftAnnotationValue !== undefined ? { leftAnnotations: [{ value: leftAnnotationValue, label: 'alarm' }] } : {}),
      });
    const business = (metricName: string) =>
      new Metric({
        namespace: BUSINESS_NAMESPACE,
        metricName,
        // the dimensions the functions' EMF lines carry (functions/adapters/emf-metrics.ts): this stage's only
        dimensionsMap: { service: SERVICE_NAME, stage: this.stage },
        statistic: 'Sum',
        period: FIVE_MINUTES,
        label: metricName,
      });
    const serviceAlarms: IAlarm[] = [
      http5xxAlarm,
      httpLatencyAlarm,
      wsIntegrationAlarm,
      wsConnectAlarm,
      concurrencyAlarm,
      ...tableAlarms,
      // Not the main stack's alarms (alsoNotify): they depend on this stack (the topic), so naming them here would be a cycle.
      sesBounceAlarm,
      sesComplaintAlarm,
      smsAlarm,
    ];
    const widgets: IWidget[][] = [
      [
        new TextWidget({
          markdown: `# NexChat ${props.stage}\nEvery alarm notifies the stage's alarm topic (output AlarmTopicArn). What each alarm means and what to do first: docs/operations.md.`,
          width: 24,
          height: 2,
        }),
      ],
      [new AlarmStatusWidget({ title: 'Service alarms (per-function alarms: see the Alarms console)', alarms: serviceAlarms, width: 24, height: 4 })],
      [
        graph('HTTP API: requests and errors', [requests, api.metricClientError({ statistic: 'Sum', period: FIVE_MINUTES, label: '4xx' }), http5xx]),
        graph('HTTP API: 5xx %', [http5xxRate], 8, thresholds.http5xxPercent),
        graph(
          'HTTP API: latency (ms)',
          [
            withLabel(api.metricLatency({ statistic: 'p50', period: FIVE_MINUTES }), 'p50'),
            httpLatency,
            withLabel(api.metricIntegrationLatency({ statistic: 'p99', period: FIVE_MINUTES }), 'integration p99'),
          ],
          8,
          thresholds.httpLatencyP99Ms,
        ),
      ],
      [
        graph('WebSocket: connects and messages', [connects, messages]),
        graph('WebSocket: errors', [wsIntegrationErrors, wsMetric('ClientError', 'client errors'), wsMetric('ExecutionError', 'execution errors'), refused]),
        graph('WebSocket: failed $connect % / integration error %', [connectFailureRate, wsIntegrationErrorRate]),
      ],
      [
        graph(
          'Lambda: errors',
          perFunction((fn) => fn.function.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES })),
          12,
        ),
        graph(
          'Lambda: throttles',
          perFunction((fn) => fn.function.metricThrottles({ statistic: 'Sum', period: FIVE_MINUTES })),
          12,
        ),
      ],
      [
        graph(
          'Lambda: p99 duration (ms)',
          perFunction((fn) => fn.function.metricDuration({ statistic: 'p99', period: FIVE_MINUTES })),
          12,
        ),
        graph('Lambda: concurrent executions (account)', [concurrency], 12, concurrencyThreshold),
      ],
      [
        graph(
          'DynamoDB: consumed read units',
          Object.entries(props.tables).map(([tableId, t]) => withLabel(t.metricConsumedReadCapacityUnits({ statistic: 'Sum', period: FIVE_MINUTES }), tableId)),
        ),
        graph(
          'DynamoDB: consumed write units',
          Object.entries(props.tables).map(([tableId, t]) =>
            withLabel(t.metricConsumedWriteCapacityUnits({ statistic: 'Sum', period: FIVE_MINUTES }), tableId),
          ),
        ),
        graph(
          'DynamoDB: throttled requests',
          throttled.map(([, m]) => m),
          8,
          thresholds.dynamoThrottledRequests,
        ),
      ],
      businessMetrics.map((name) => graph(`NexChat: ${name}`, [business(name)], 6)),
      [
        graph(
          'Dead-letter queues: messages waiting',
          (props.alsoNotify ?? []).map((a) => a.metric),
          6,
        ),
        graph('SES: bounce rate', [bounceRate], 6, thresholds.sesBounceRate),
        graph('SES: complaint rate', [complaintRate], 6, thresholds.sesComplaintRate),
        graph('SNS: SMS spend this month (USD)', [smsSpend], 6, smsThreshold),
      ],
    ];
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${this.prefix}-${Aws.REGION}`,
      defaultInterval: Duration.hours(3),
      widgets,
    });

    new CfnOutput(scope, 'AlarmTopicArn', { value: this.topic.topicArn, description: 'SNS topic every alarm notifies (subscribe on-call here)' });
    new CfnOutput(scope, 'DashboardUrl', {
      value: `https://console.aws.amazon.com/cloudwatch/home?region=${parent.region}#dashboards/dashboard/${this.prefix}-${parent.region}`,
      description: 'CloudWatch dashboard of this stage',
    });
  }

  /**
   * The errors, throttles and duration alarms of one function (a manifest route, route authorizer or
   * worker), for CodeDeploy canaries. They watch the function by name, i.e. every version at once
   * (see the constructor); each one used from the main stack costs a nested-stack output (200 max).
   */
  /**
   * The alarm that rolls back one function's canary deployment (RouteFunction.errorsAlarm: a minute's
   * errors, so it can fire within the 5-minute canary), made here to keep the main template within
   * its resource budget, and notifying the topic like every alarm: a rollback is worth knowing about.
   * It names the function, never the alias, so the deployment groups that use it form no cycle.
   */
  canaryAlarm(fn: RouteFunction): IAlarm {
    const alarm = fn.errorsAlarm(this, `${fn.spec.id}CanaryErrors`);
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    return alarm;
  }

  functionAlarms(functionId: string): IAlarm[] {
    const found = this.byFunction.get(functionId);
    if (!found) throw new Error(`no alarms for function ${functionId}: it is not one of the stack's functions`);
    return [found.errors, found.throttles, found.duration];
  }

  /** Sends an alarm's ALARM and OK notifications to the topic. */
  notify(alarm: Alarm): void {
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
  }

  private functionAlarms_(scope: Construct, fnId: string, made: RouteFunction): FunctionAlarms {
    const fn = made.function;
    const timeoutSeconds = fn.timeout?.toSeconds() ?? DEFAULT_TIMEOUT_SECONDS;
    const what = `${fnId} (${made.spec.description.slice(0, 160)})`;
    return {
      errors: this.alarm(scope, `${fnId}Errors`, `${fnId}-Errors`, {
        metric: fn.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES }),
        threshold: thresholds.functionErrors,
        description: `${what} failed ${thresholds.functionErrors} or more invocations in 5 minutes: unhandled errors, timeouts or crashes. Handlers answer expected failures themselves, so each one is a bug or an outage of something it calls; read its log group.`,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      throttles: this.alarm(scope, `${fnId}Throttles`, `${fnId}-Throttles`, {
        metric: fn.metricThrottles({ statistic: 'Sum', period: FIVE_MINUTES }),
        threshold: thresholds.functionThrottles,
        description: `Lambda refused invocations of ${what} for lack of concurrency in the last 5 minutes: callers got errors (or the queue will retry). The account's concurrency is used up; see the concurrency alarm.`,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      duration: this.alarm(scope, `${fnId}Duration`, `${fnId}-DurationP99`, {
        metric: fn.metricDuration({ statistic: 'p99', period: FIVE_MINUTES }),
        threshold: Math.round(thresholds.durationShareOfTimeout * timeoutSeconds * 1000),
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        description: `${what}: p99 duration was ${pct(thresholds.durationShareOfTimeout)} or more of its ${timeoutSeconds} s timeout in 10 of the last 15 minutes; slower still and invocations time out. Something it calls is slow (DynamoDB, SES/SNS, @connections) or it needs more memory.`,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    };
  }

  private alarm(scope: Construct, id: string, name: string, spec: AlarmSpec): Alarm {
    const alarm = new Alarm(scope, id, {
      alarmName: `${this.prefix}-${name}`,
      alarmDescription: `NexChat ${this.stage}: ${spec.description}`.slice(0, 1024),
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: spec.evaluationPeriods ?? 1,
      datapointsToAlarm: spec.datapointsToAlarm ?? spec.evaluationPeriods ?? 1,
      treatMissingData: spec.treatMissingData,
    });
    this.notify(alarm);
    this.alarms.push(alarm);
    return alarm;
  }

  /**
   * The alarm topic: encrypted with a key of its own (CloudWatch cannot publish to a topic under the
   * AWS managed SNS key, whose policy cannot grant it), TLS only, and open to this account's alarms.
   */
  private createTopic(): Topic {
    const key = new Key(this, 'AlarmTopicKey', {
      description: `NexChat ${this.stage}: encrypts the alarm topic`,
      enableKeyRotation: true,
      // Notifications are in flight only: nothing stays encrypted under this key once delivered.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    denyGrantsExceptAwsServices(key);
    const topic = new Topic(this, 'AlarmTopic', { displayName: `NexChat ${this.stage} alarms`, masterKey: key, enforceSSL: true });
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccount',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    return topic;
  }

  /** The chat forwarder: a function like every other (own role and log group), reading only the webhook secret. */
  private createForwarder(webhook: NonNullable<MonitoringSettings['webhook']>, props: MonitoringProps): RouteFunction {
    const secret = Secret.fromSecretCompleteArn(this, 'AlarmWebhookSecret', webhook.secretArn);
    const forwarder = new RouteFunction(this, alarmForwarderSpec.id, {
      spec: alarmForwarderSpec,
      stage: props.stage,
      tables: props.tables,
      secrets: { alarmWebhook: secret },
      webSocketStage: props.webSocketStage,
      settings: props.deploymentSettings,
      // A logs key of this (nested) stack, referenced by GetAtt like the main stack's: cfn-guard's plugin
      // fails on a log group whose KmsKeyId is a Ref to a parameter (the parent's key passed down).
      logKey: createLogKey(this, 'ForwarderLogKey', props.stage),
    });
    forwarder.function.addEnvironment(WEBHOOK_FORMAT_ENV, webhook.format);
    this.acknowledgeNoRedrive(this.topic.addSubscription(new LambdaSubscription(forwarder.live)));
    // The same ARN as the Ref CDK writes, as GetAtt: cfn-guard's plugin fails on a permission whose
    // SourceArn is a Ref (it reads Ref and GetAtt results differently), and a GetAtt passes its rule.
    const permission = forwarder.live.node.findAll().find((c): c is CfnPermission => c instanceof CfnPermission);
    permission?.addPropertyOverride('SourceArn', { 'Fn::GetAtt': [this.getLogicalId(this.topic.node.defaultChild as CfnTopic), 'TopicArn'] });
    this.alarm(this, 'AlarmForwarderErrors', 'AlarmForwarder-Errors', {
      metric: forwarder.function.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES }),
      threshold: 1,
      description: `alarm notifications are not reaching the chat webhook: the forwarder failed after its retries. Check the webhook secret (${webhook.secretArn}) still holds a working URL, then the forwarder's log group. Email subscribers still get every alarm.`,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    return forwarder;
  }

  private acknowledgeNoRedrive(subscription: Subscription): void {
    Validations.of(subscription.node.defaultChild!).acknowledge({
      id: 'Serverless-SNSRedrivePolicy',
      reason:
        'Alarm notifications SNS cannot deliver would wait in a queue nobody reads (its own alarm would notify through this very topic); the alarm state stays in CloudWatch and on the dashboard.',
    });
  }
}

/**
 * Sum of a DynamoDB per-operation metric over the operations we use; SUM([...]) adds whichever
 * report (a plain `a + b` has no value where one is missing). Ids carry the table: one graph shows all.
 */
function sumOverOperations(table: ITable, tableId: TableId, metricName: 'ThrottledRequests' | 'SystemErrors', label: string): MathExpression {
  const usingMetrics = Object.fromEntries(
    DYNAMO_OPERATIONS.map((operation) => [
      `${tableId}${operation}`,
      table.metric(metricName, { dimensionsMap: { TableName: table.tableName, Operation: operation }, statistic: 'Sum', period: FIVE_MINUTES }),
    ]),
  );
  return new MathExpression({ expression: `SUM([${Object.keys(usingMetrics).join(', ')}])`, usingMetrics, label, period: FIVE_MINUTES });
}

function withLabel(metric: IMetric, label: string): IMetric {
  return metric instanceof Metric || metric instanceof MathExpression ? metric.with({ label }) : metric;
}

function pct(share: number): string {
  return `${+(share * 100).toFixed(2)}%`;
}
