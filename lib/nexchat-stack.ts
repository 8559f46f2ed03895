// NexChatStack: one stage of NexChat. Tables from lib/tables.ts, one Lambda per route of the
// manifest (lib/routes.ts) behind an HTTP API and a WebSocket API, plus one per route authorizer
// ($connect's ticket check), the auth secret, gateway throttles and access logs, every log group
// encrypted with the stack's one logs key; alarms, the alarm topic and the dashboard live in a nested
// stack (constructs/monitoring.ts). Callers invoke each function's `live` alias; an optional
// CodeDeploy canary shifts it. Nothing has a hard-coded physical name (access log groups, alarms and
// the dashboard are named after the stack), so stages coexist.
import { ArnFormat, CfnOutput, CustomResource, Duration, Names, NestedStack, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CfnIntegration,
  CfnStage,
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  LogGroupLogDestination,
  WebSocketApi,
  WebSocketStage,
  type CfnRoute,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration, WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption, type Attribute } from 'aws-cdk-lib/aws-dynamodb';
import { LambdaApplication } from 'aws-cdk-lib/aws-codedeploy';
import { ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Key } from 'aws-cdk-lib/aws-kms';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { CfnPermission, EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
// The function cdk-nag itself uses to name findings, so acknowledgements match exactly.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { Construct } from 'constructs';
import { createLogKey } from './constructs/log-key.ts';
import {
  LOG_RETENTION,
  RouteFunction,
  logRemovalPolicy,
  authorizerFunctionSpec,
  describeRoute,
  routeFunctionSpec,
  scheduledJobFunctionSpec,
  workerFunctionSpec,
  DEFAULT_MESSAGE_RETENTION_DAYS,
  PROD_STAGE,
  type DeploymentSettings,
  type FunctionSpec,
} from './constructs/route-function.ts';
import {
  allRoutes,
  allScheduledJobs,
  allWorkers,
  httpRouteKey,
  queueSettings,
  type QueueId,
  stageThrottle,
  type HttpRoute as ManifestHttpRoute,
  type Route,
  type Throttle,
  type WsRoute as ManifestWsRoute,
} from './routes.ts';
import { corsPolicy } from './cors.ts';
import { TableBackups, type BackupSettings } from './constructs/backups.ts';
import { AttachmentsBucket, SERVER_ACCESS_LOG_PREFIX } from './constructs/attachments-bucket.ts';
import type { RolloutAlarms, RolloutSettings } from './rollout.ts';
import { Edge, type EdgeSettings } from './constructs/edge.ts';
import { tables, type KeyAttribute, type TableId } from './tables.ts';
import { defaultMonitoringSettings, Monitoring, type MonitoringSettings } from './constructs/monitoring.ts';

export interface NexChatStackProps extends StackProps {
  /** Stage name: dev, prod, a developer's name... Also the WebSocket API's stage name. */
  readonly stage: string;
  /** OTP policy, JWT issuer, SES sender: passed to the functions (bin/nexchat.ts reads them from context). */
  readonly settings: DeploymentSettings;
  /** AWS Backup for the users, keys, messages and moderation tables (bin/nexchat.ts reads it from context). */
  readonly backups?: BackupSettings;
  /** The routes to deploy. Tests pass extra synthetic routes; deployments use the manifest. @default allRoutes */
  readonly routes?: readonly Route[];
  /** Alarm subscribers and limits (bin/nexchat.ts reads them from context). @default defaultMonitoringSettings */
  readonly monitoring?: MonitoringSettings;
  /** Canary and provisioned concurrency (bin/nexchat.ts reads them from context). @default neither */
  readonly rollout?: RolloutSettings;
  /**
   * The alarms that roll back each function's canary deployment; without it, each function gets
   * the monitoring stack's canary errors alarm and its errors and duration alarms. Only used with rollout.canary.
   */
  readonly rolloutAlarms?: RolloutAlarms;
  /** CloudFront + WAF in front of both APIs on a custom domain (lib/constructs/edge.ts); absent, nothing changes. */
  readonly edge?: EdgeSettings;
}

/** Prefix of the access log groups: AWS log delivery writes under it without growing the region's Logs resource policy. */
export const ACCESS_LOG_PREFIX = '/aws/vendedlogs/nexchat';

/** The custom resource function that sets API Gateway's account CloudWatch role. */
export const API_GATEWAY_ACCOUNT_FUNCTION = 'ApiGatewayAccountSetup';

/** The AWS managed policy API Gateway's account CloudWatch role needs (and all it needs). */
const API_GATEWAY_LOGS_POLICY = 'service-role/AmazonAPIGatewayPushToCloudWatchLogs';

/** The AWS managed policy for CodeDeploy's Lambda deployments (CDK's default for a deployment group's role). */
const CODEDEPLOY_LAMBDA_POLICY = 'service-role/AWSCodeDeployRoleForLambdaLimited';

/** Fields of an HTTP API access log line (JSON). No query strings or headers: they may carry secrets. */
const httpAccessLogFormat = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTimeEpoch',
    ip: '$context.identity.sourceIp',
    routeKey: '$context.routeKey',
    path: '$context.path',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    error: '$context.error.message',
  }),
);

/** Fields of a WebSocket API access log line (JSON), one per connect, message and disconnect. */
const wsAccessLogFormat = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTimeEpoch',
    ip: '$context.identity.sourceIp',
    connectionId: '$context.connectionId',
    eventType: '$context.eventType',
    routeKey: '$context.routeKey',
    status: '$context.status',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integration.error',
    error: '$context.error.message',
  }),
);

export class NexChatStack extends Stack {
  readonly stage: string;
  /** The routes deployed (the manifest's, or a test's list): one function and one gateway route each. */
  readonly routes: readonly Route[];
  readonly tables: Readonly<Record<TableId, Table>>;
  /** The customer managed key of every log group in the stack (function and access logs). */
  readonly logKey: Key;
  readonly secrets: { readonly auth: Secret };
  readonly httpApi: HttpApi;
  readonly httpStage: HttpStage;
  readonly webSocketApi: WebSocketApi;
  readonly webSocketStage: WebSocketStage;
  /** The attachment blobs (presigned uploads and downloads) and the bucket of their server access logs. */
  readonly attachments: AttachmentsBucket;
  /** One per manifest route, per route authorizer, per worker and per scheduled job, keyed by their ids. */
  readonly functions: Readonly<Record<string, RouteFunction>>;
  /** The EventBridge rule of each scheduled job, keyed by the job's id. */
  readonly schedules: Readonly<Record<string, Rule>>;
  /** Queues between functions (OTP delivery, the presence offline), each with its dead-letter queue and depth alarm. */
  readonly queues: Readonly<Record<QueueId, { readonly queue: Queue; readonly deadLetters: Queue; readonly alarm: Alarm }>>;
  /** The backup vault and plan, when backups are on. */
  readonly backups?: TableBackups;
  /** Sets API Gateway's account-level CloudWatch Logs role where the account has no working one. */
  readonly apiGatewayAccountRole: CustomResource;
  /** Functions of the stack itself, not of the API (the account-role custom resource's), by id. */
  readonly operatorFunctions: Readonly<Record<string, RouteFunction>>;
  /** Alarms, alarm topic and dashboard: a nested stack (lib/constructs/monitoring.ts). */
  readonly monitoring: Monitoring;
  /** With the canary on: the stack's one CodeDeploy application and the one role all its deployment groups use. */
  readonly canary?: { readonly application: LambdaApplication; readonly role: Role };
  /** The edge (distribution, origins, and its us-east-1 firewall stack), when context turns it on. */
  readonly edge?: Edge;

  constructor(scope: Construct, id: string, props: NexChatStackProps) {
    super(scope, id, props);
    this.stage = props.stage;
    const routes = props.routes ?? allRoutes;
    this.routes = routes;
    const httpRoutes = routes.filter((r): r is ManifestHttpRoute => r.kind === 'http');
    const wsRoutes = routes.filter((r): r is ManifestWsRoute => r.kind === 'ws');

    this.tables = this.createTables();
    this.attachments = new AttachmentsBucket(this, 'Attachments', {
      ...(props.settings.corsOrigins ? { corsOrigins: props.settings.corsOrigins } : {}),
      messageRetentionDays: props.settings.messageRetentionDays ?? DEFAULT_MESSAGE_RETENTION_DAYS,
    });
    this.logKey = createLogKey(this, 'LogKey', props.stage);
    if (props.backups?.enabled) this.backups = new TableBackups(this, 'Backups', { settings: props.backups, tables: this.tables, stage: props.stage });

    const auth = new Secret(this, 'AuthSecret', {
      description: `NexChat ${props.stage}: JWT signing keys and OTP pepper. Generated by CloudFormation, never in the template.`,
      generateSecretString: { secretStringTemplate: JSON.stringify({ kid: 'k1' }), generateStringKey: 'master', passwordLength: 64, excludePunctuation: true },
      // Kept on update and stack delete (live tokens depend on it); a rolled-back first create removes it.
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    Validations.of(auth.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Keys are rotated by the application (kid-based: a new key signs, old keys verify until their tokens expire); a Secrets Manager rotation Lambda would invalidate every live token at once.',
    });
    this.secrets = { auth };

    // --- APIs and their stages (before the functions: @connections grants need the WS stage) ---
    this.httpApi = new HttpApi(this, 'HttpApi', {
      apiName: `${this.stackName}-http`,
      description: `NexChat ${props.stage} HTTP API`,
      createDefaultStage: false,
      ...(props.settings.corsOrigins?.length
        ? {
            corsPreflight: {
              allowOrigins: [...props.settings.corsOrigins],
              allowHeaders: [...corsPolicy.allowHeaders],
              allowMethods: corsPolicy.allowMethods.map((m) => CorsHttpMethod[m]),
              exposeHeaders: [...corsPolicy.exposeHeaders],
              allowCredentials: corsPolicy.allowCredentials,
              maxAge: Duration.seconds(corsPolicy.maxAgeSeconds),
            },
          }
        : {}),
    });
    this.httpStage = new HttpStage(this, 'HttpStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: stageThrottle.rate, burstLimit: stageThrottle.burst },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup('HttpAccessLogs', 'http-access', props.stage)),
        format: httpAccessLogFormat,
      },
    });

    this.webSocketApi = new WebSocketApi(this, 'WebSocketApi', {
      apiName: `${this.stackName}-ws`,
      description: `NexChat ${props.stage} WebSocket API`,
      routeSelectionExpression: '$request.body.action',
    });
    this.webSocketStage = new WebSocketStage(this, 'WebSocketStage', {
      webSocketApi: this.webSocketApi,
      stageName: props.stage,
      autoDeploy: true,
      throttle: { rateLimit: stageThrottle.rate, burstLimit: stageThrottle.burst },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup('WebSocketAccessLogs', 'ws-access', props.stage)),
        format: wsAccessLogFormat,
      },
    });

    // A WebSocket stage with access logs cannot be created until the account has a logs role.
    const accountRole = this.createApiGatewayAccountRole(props.settings);
    this.apiGatewayAccountRole = accountRole.resource;
    this.operatorFunctions = { [API_GATEWAY_ACCOUNT_FUNCTION]: accountRole.setup };
    this.webSocketStage.node.addDependency(this.apiGatewayAccountRole);

    // --- one function per manifest route and per route authorizer, one gateway route per route ---
    for (const route of wsRoutes) checkAuthorizer(route);
    const consumerTimeout = (id: QueueId) => allWorkers.find((w) => w.queue === id)?.timeoutSeconds ?? 10;
    this.queues = { otp: this.createQueue('otp', consumerTimeout('otp')), presence: this.createQueue('presence', consumerTimeout('presence')) };
    const workers = allWorkers;
    const specs: FunctionSpec[] = [
      ...routes.map(routeFunctionSpec),
      ...wsRoutes.flatMap((r) => (r.authorizer ? [authorizerFunctionSpec(r, r.authorizer)] : [])),
      ...workers.map(workerFunctionSpec),
      ...allScheduledJobs.map(scheduledJobFunctionSpec),
    ];
    const provisioned = props.rollout?.provisionedConcurrency ?? {};
    const unknown = Object.keys(provisioned).filter((id) => !specs.some((spec) => spec.id === id));
    if (unknown.length > 0) {
      throw new Error(
        `context "provisionedConcurrency" names ${unknown.map((id) => `"${id}"`).join(', ')}, not a function of this stack; functions: ${specs.map((spec) => spec.id).join(', ')}`,
      );
    }
    const functions: Record<string, RouteFunction> = {};
    for (const spec of specs) {
      if (functions[spec.id]) throw new Error(`function id ${spec.id} is used twice (route and authorizer ids name Lambdas, so they must be unique)`);
      functions[spec.id] = new RouteFunction(this.functionArea(spec), spec.id, {
        spec,
        stage: props.stage,
        tables: this.tables,
        secrets: this.secrets,
        queues: { otp: this.queues.otp.queue, presence: this.queues.presence.queue },
        buckets: { attachments: this.attachments.bucket },
        webSocketStage: this.webSocketStage,
        settings: props.settings,
        logKey: this.logKey,
        ...(provisioned[spec.id] ? { provisionedConcurrency: provisioned[spec.id] } : {}),
      });
    }
    this.functions = functions;
    // Workers consume their queue through the alias; a message reported as failed is retried, then
    // dead-lettered. The mapping keeps the construct path (hence logical id) SqsEventSource gave it on
    // the function before aliases existed, so moving it to the alias is an in-place update rather than
    // a second mapping on the same queue and function, created before the old one is deleted.
    for (const worker of workers) {
      const queue = this.queues[worker.queue].queue;
      const fn = functions[worker.id]!;
      const mapping = new EventSourceMapping(fn.function, `SqsEventSource:${Names.nodeUniqueId(queue.node)}`, {
        target: fn.live,
        eventSourceArn: queue.queueArn,
        batchSize: 10,
        reportBatchItemFailures: true,
      });
      queue.grantConsumeMessages(fn.live);
      Validations.of(mapping.node.defaultChild!).acknowledge({
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason:
          "SQS event sources take no on-failure destination (streams and Kafka do): a message that fails every attempt goes to the queue's redrive dead-letter queue, which raises an alarm.",
      });
    }

    // Scheduled jobs: an EventBridge rule beside each job's function (its area's stack) invokes its live alias.
    const schedules: Record<string, Rule> = {};
    for (const job of allScheduledJobs) {
      const fn = functions[job.id]!;
      const rule = new Rule(fn, 'Schedule', {
        description: `NexChat ${props.stage} ${job.id}: every ${job.everyMinutes} minutes`,
        schedule: Schedule.rate(Duration.minutes(job.everyMinutes)),
        targets: [new LambdaFunction(fn.live)],
      });
      Validations.of(rule.node.defaultChild!).acknowledge({
        id: 'Serverless-EventBusDLQ',
        reason: `The target is ${job.id}'s scheduled run: its events carry no data, so a dead-letter queue would hold nothing to replay; the next run ${job.everyMinutes} minutes later redoes the work, and the function's errors alarm reports failures.`,
      });
      schedules[job.id] = rule;
    }
    this.schedules = schedules;

    const httpCfnRoutes: CfnRoute[] = [];
    for (const route of httpRoutes) {
      const fn = functions[route.id]!.live;
      const httpRoute = new HttpRoute(this, `${route.id}Route`, {
        httpApi: this.httpApi,
        routeKey: HttpRouteKey.with(route.path, HttpMethod[route.method]),
        integration: new HttpLambdaIntegration(`${route.id}Integration`, fn),
      });
      const cfnRoute = httpRoute.node.defaultChild as CfnRoute;
      acknowledgeNoGatewayAuthorizer(cfnRoute, route);
      httpCfnRoutes.push(cfnRoute);
    }

    const wsCfnRoutes: CfnRoute[] = [];
    for (const route of wsRoutes) {
      const fn = functions[route.id]!.live;
      // A Lambda REQUEST authorizer (type CUSTOM on the route; CDK also lets API Gateway invoke the
      // function, from this authorizer only). WebSocket authorizers cache nothing (result TTLs
      // exist for HTTP APIs only), which a single-use ticket needs: every connect is checked anew.
      // With the identity source set, a request without the parameter is refused before any Lambda runs.
      const authorizer = route.authorizer
        ? new WebSocketLambdaAuthorizer(route.authorizer.id, functions[route.authorizer.id]!.live, {
            identitySource: [`route.request.querystring.${route.authorizer.queryParameter}`],
          })
        : undefined;
      const wsRoute = this.webSocketApi.addRoute(route.routeKey, {
        integration: new WebSocketLambdaIntegration(`${route.id}Integration`, fn),
        ...(authorizer ? { authorizer } : {}),
      });
      const cfnRoute = wsRoute.node.defaultChild as CfnRoute;
      if (!authorizer) acknowledgeNoGatewayAuthorizer(cfnRoute, route);
      wsCfnRoutes.push(cfnRoute);
    }

    integrationsWaitForPermissions(this);

    // Per-route throttles. CloudFormation rejects RouteSettings for a route key that does not
    // exist yet, hence the explicit dependencies.
    applyRouteThrottles(
      this.httpStage.node.defaultChild as CfnStage,
      httpRoutes.map((r) => [httpRouteKey(r), r.throttle]),
      httpCfnRoutes,
    );
    applyRouteThrottles(
      this.webSocketStage.node.defaultChild as CfnStage,
      wsRoutes.map((r) => [r.routeKey, r.throttle]),
      wsCfnRoutes,
    );

    if (props.edge) {
      this.edge = new Edge(this, 'Edge', {
        settings: props.edge,
        stage: props.stage,
        httpApi: this.httpApi,
        httpStage: this.httpStage,
        webSocketApi: this.webSocketApi,
        webSocketStage: this.webSocketStage,
        routes,
        functions,
        accessLogPrefix: ACCESS_LOG_PREFIX,
      });
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      stage: props.stage,
      settings: props.monitoring ?? defaultMonitoringSettings,
      functions,
      tables: this.tables,
      httpApi: this.httpApi,
      webSocketStage: this.webSocketStage,
      deploymentSettings: props.settings,
      alsoNotify: [this.queues.otp.alarm, this.queues.presence.alarm],
    });
    // Canary rollback alarms live beside each function, in its area's stack, and watch the function
    // by name, never the alias, so no dependency cycle (see RolloutAlarms): its fast errors alarm and
    // a p99 duration alarm (not throttles: they follow traffic, not the new code). The monitoring
    // stack's own alarms on the function notify the operator.
    if (props.rollout?.canary) this.canary = this.enableCanaries(props.rolloutAlarms ?? ((fn) => fn.rollbackAlarms()));

    // Behind the edge the execute-api endpoints are off: the outputs name the public URLs instead.
    const urls = this.edge?.urls;
    new CfnOutput(this, 'HttpApiUrl', { value: urls?.http ?? this.httpStage.url, description: `Base URL of the HTTP API${urls ? ' (CloudFront)' : ''}` });
    new CfnOutput(this, 'WebSocketUrl', {
      value: urls?.ws ?? this.webSocketStage.url,
      description: `wss:// URL of the WebSocket API${urls ? ' (CloudFront)' : ''}`,
    });
    // Operator tooling (npm run admin -- grant ... --aws) names the tables it writes.
    new CfnOutput(this, 'UsersTableName', { value: this.tables.users.tableName, description: 'Users table (for npm run admin --aws)' });
    new CfnOutput(this, 'ModerationTableName', { value: this.tables.moderation.tableName, description: 'Moderation table (for npm run admin --aws)' });
    new CfnOutput(this, 'AttachmentsBucketName', { value: this.attachments.bucket.bucketName, description: 'Attachment blobs (client-encrypted)' });
    new CfnOutput(this, 'AttachmentsAccessLogBucketName', {
      value: this.attachments.logBucket.bucketName,
      description: `Server access logs of the attachments bucket (under ${SERVER_ACCESS_LOG_PREFIX})`,
    });
  }

  /**
   * A queue between functions: encrypted, TLS only, short retention; after maxReceiveCount failed
   * attempts a message moves to the dead-letter queue (kept 14 days for inspection), and any
   * message there sets off an alarm. Visibility is six times the consumer's timeout (AWS's advice).
   */
  private readonly areas = new Map<string, NestedStack>();

  /**
   * The nested stack a function lives in: one per area of the handlers' tree (functions/http/<area>/,
   * functions/ws/ for the WebSocket routes, functions/queue/ for workers, functions/schedule/ for
   * scheduled jobs). CloudFormation allows 500
   * resources per template; each function brings its role, log group, version, alias, permission and,
   * with the canary, its deployment group, so the main template keeps only the gateway's part of a route.
   */
  private functionArea(spec: FunctionSpec): NestedStack {
    const match = /^functions\/(?:http\/([a-z-]+)|([a-z-]+))\//.exec(spec.handler);
    const area = match?.[1] ?? (match?.[2] === 'ws' ? 'realtime' : (match?.[2] ?? 'other'));
    let stack = this.areas.get(area);
    if (!stack) {
      const name = area.replace(/(^|-)([a-z])/g, (_, _dash: string, c: string) => c.toUpperCase());
      stack = new NestedStack(this, `${name}Functions`, { description: `NexChat ${this.stage}: the ${area} functions` });
      this.areas.set(area, stack);
    }
    return stack;
  }

  private createQueue(id: QueueId, consumerTimeoutSeconds: number) {
    const name = id.charAt(0).toUpperCase() + id.slice(1);
    const deadLetters = new Queue(this, `${name}DeadLetterQueue`, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetters.node.defaultChild!).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: `This is the dead-letter queue of the ${id} queue: the end of the line, watched by an alarm.`,
    });
    const queue = new Queue(this, `${name}Queue`, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.minutes(queueSettings[id].retentionMinutes),
      visibilityTimeout: Duration.seconds(6 * consumerTimeoutSeconds),
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: queueSettings[id].maxReceiveCount },
    });
    const alarm = new Alarm(this, `${name}DeadLettersAlarm`, {
      alarmDescription: `NexChat ${this.stage}: ${id} messages failed every attempt and wait in the dead-letter queue`,
      metric: deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    return { queue, deadLetters, alarm };
  }

  /**
   * CodeDeploy shifts every function's `live` alias to a new version 10% first, for five minutes,
   * then the rest. One application for the stack; one service role for all deployment groups (each
   * group would otherwise make its own). The alarms come from `alarms` (see RolloutAlarms).
   */
  private enableCanaries(alarms: RolloutAlarms): { application: LambdaApplication; role: Role } {
    const application = new LambdaApplication(this, 'CanaryApplication');
    const policy = ManagedPolicy.fromAwsManagedPolicyName(CODEDEPLOY_LAMBDA_POLICY);
    const role = new Role(this, 'CanaryDeploymentRole', {
      assumedBy: new ServicePrincipal('codedeploy.amazonaws.com'),
      description: `NexChat ${this.stage}: CodeDeploy shifts the functions' live aliases and reads their rollback alarms`,
      managedPolicies: [policy],
    });
    Validations.of(role.node.defaultChild!).acknowledge({
      id: `AwsSolutions-IAM4[Policy::${flattenCfnReference(this.resolve(policy.managedPolicyArn))}]`,
      reason:
        "AWSCodeDeployRoleForLambdaLimited is the policy AWS documents for CodeDeploy's Lambda deployments (and CDK's default): read alarms, get and update aliases and their provisioned concurrency.",
    });
    // Each group attaches the same managed policy again; the role keeps one copy (tests check it).
    for (const fn of Object.values(this.functions)) fn.enableCanary({ application, role, alarms: alarms(fn) });
    // Operators look deployments up by it (aws deploy list-deployments --application-name ...).
    new CfnOutput(this, 'CanaryApplicationName', { value: application.applicationName, description: 'CodeDeploy application of the canary deployments' });
    return { application, role };
  }

  /**
   * API Gateway's account-level CloudWatch Logs role, set only where the account (this region) has
   * none or has one that no longer exists: a custom resource reads GetAccount and decides (see
   * functions/custom-resources/api-gateway-account.ts), so a first deploy needs no flag and many
   * stages can share an account. The role is retained on delete: once set, other stages rely on it.
   */
  private createApiGatewayAccountRole(settings: DeploymentSettings): { resource: CustomResource; setup: RouteFunction } {
    const logsPolicy = ManagedPolicy.fromAwsManagedPolicyName(API_GATEWAY_LOGS_POLICY);
    const role = new Role(this, 'ApiGatewayCloudWatchRole', {
      assumedBy: new ServicePrincipal('apigateway.amazonaws.com'),
      description:
        'API Gateway (account-wide, this region): writes API access and execution logs to CloudWatch Logs; set only if the account had no working role',
      managedPolicies: [logsPolicy],
    });
    role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    const policyArn = this.resolve(logsPolicy.managedPolicyArn);
    Validations.of(role.node.defaultChild!).acknowledge({
      id: `AwsSolutions-IAM4[Policy::${flattenCfnReference(policyArn)}]`,
      reason:
        'AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for the API Gateway account role; API Gateway creates its log groups itself, so it cannot be scoped to ours.',
    });

    const setup = new RouteFunction(this, API_GATEWAY_ACCOUNT_FUNCTION, {
      spec: {
        id: API_GATEWAY_ACCOUNT_FUNCTION,
        handler: 'functions/custom-resources/api-gateway-account.ts',
        description: "Custom resource: sets API Gateway's account CloudWatch Logs role only where the account has no working one",
        tables: {},
        trigger: 'cloudformation',
        timeoutSeconds: 120,
      },
      stage: this.stage,
      tables: this.tables,
      secrets: this.secrets,
      webSocketStage: this.webSocketStage,
      settings,
      logKey: this.logKey,
    });
    const accountArn = this.formatArn({ service: 'apigateway', account: '', resource: '/account', arnFormat: ArnFormat.NO_RESOURCE_NAME });
    setup.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['apigateway:GET', 'apigateway:PATCH'], resources: [accountArn] }));
    setup.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'apigateway.amazonaws.com' } },
      }),
    );
    const anyRole = this.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    setup.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['iam:GetRole'], resources: [anyRole] }));
    Validations.of(setup.role.node.defaultChild!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(this.resolve(anyRole))}]`,
      reason:
        "iam:GetRole (read only) on the account's roles: the account may point API Gateway at a role of any name, and the function checks that it still exists before leaving it in place.",
    });
    const resource = new CustomResource(this, 'ApiGatewayAccountRole', {
      // CloudFormation calls the live alias, like every other caller of every function.
      serviceToken: setup.live.functionArn,
      resourceType: 'Custom::ApiGatewayAccountRole',
      properties: { RoleArn: role.roleArn },
    });
    return { resource, setup };
  }

  /**
   * An API access log group, named under /aws/vendedlogs/ so that delivering to it adds nothing to
   * the region's shared CloudWatch Logs resource policy (a 5,120-character limit shared by every
   * stack); the stack name keeps two stages apart. Destroyed with the stack outside prod; encrypted
   * with the stack's logs key, like the function log groups.
   */
  private accessLogGroup(id: string, suffix: string, stage: string): LogGroup {
    return new LogGroup(this, id, {
      logGroupName: `${ACCESS_LOG_PREFIX}/${this.stackName}/${suffix}`,
      retention: LOG_RETENTION,
      removalPolicy: logRemovalPolicy(stage),
      encryptionKey: this.logKey,
    });
  }

  private createTables(): Record<TableId, Table> {
    const created: Partial<Record<TableId, Table>> = {};
    for (const def of tables) {
      const table = new Table(this, `${pascalCase(def.id)}Table`, {
        partitionKey: attribute(def.partitionKey),
        sortKey: attribute(def.sortKey),
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        // Only in prod: deletion protection would stop a failed first create from rolling back
        // (CloudFormation could not delete the empty tables), leaving them behind for the retry to
        // collide with. Prod keeps it, and an operator removes a failed first prod create by hand.
        deletionProtection: this.stage === PROD_STAGE,
        encryption: TableEncryption.AWS_MANAGED,
        ...(def.ttlAttribute ? { timeToLiveAttribute: def.ttlAttribute } : {}),
        // Kept on update and stack delete; a rolled-back first create removes the (empty) table, so
        // a retry does not collide with an orphan.
        removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      });
      for (const index of def.indexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: attribute(index.partitionKey),
          ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
          projectionType: ProjectionType.ALL,
        });
      }
      created[def.id] = table;
    }
    return created as Record<TableId, Table>;
  }
}

function attribute(a: KeyAttribute): Attribute {
  return { name: a.name, type: a.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER };
}

function pascalCase(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * Each integration waits for the invoke permission on the alias it calls. Moving an integration from
 * the function to its alias replaces the permission (a new one on the alias; the old one on the
 * function goes at cleanup), and without the dependency CloudFormation may switch the integration
 * first, failing requests until the permission exists. (The $connect authorizer cannot wait for its
 * permission, which names the authorizer: connects may fail for seconds during that one deploy.)
 */
function integrationsWaitForPermissions(stack: Stack): void {
  const all = stack.node.findAll();
  const permissions = all.filter((c): c is CfnPermission => c instanceof CfnPermission);
  for (const integration of all.filter((c): c is CfnIntegration => c instanceof CfnIntegration)) {
    const uri = JSON.stringify(stack.resolve(integration.integrationUri));
    for (const permission of permissions) {
      if (uri.includes(JSON.stringify(stack.resolve(permission.functionName)))) integration.addResourceDependency(permission);
    }
  }
}

function applyRouteThrottles(stage: CfnStage, settings: [routeKey: string, throttle: Throttle][], routes: CfnRoute[]): void {
  stage.routeSettings = Object.fromEntries(settings.map(([key, t]) => [key, { ThrottlingRateLimit: t.rate, ThrottlingBurstLimit: t.burst }]));
  for (const route of routes) stage.node.addDependency(route);
}

/**
 * API Gateway allows WebSocket authorizers on $connect only (they admit the connection; later frames
 * ride it). A signed-in $connect needs one: it is the only way the connection learns its user.
 */
function checkAuthorizer(route: ManifestWsRoute): void {
  if (route.authorizer && route.routeKey !== '$connect') {
    throw new Error(`route ${route.id}: API Gateway runs WebSocket authorizers on $connect only, not on ${route.routeKey}`);
  }
  if (route.authorizer && !/^[A-Za-z0-9._-]+$/.test(route.authorizer.queryParameter)) {
    throw new Error(
      `route ${route.id}: authorizer query parameter ${JSON.stringify(route.authorizer.queryParameter)} is not a valid API Gateway identity source name`,
    );
  }
  if (!route.authorizer && route.routeKey === '$connect' && route.access !== 'public') {
    throw new Error(`route ${route.id}: a $connect with access "${route.access}" needs an authorizer to name the connection's user`);
  }
}

/**
 * Routes without a gateway authorizer. HTTP tokens are verified in the Lambda (our own jose JWTs,
 * pinned algorithms, issuer, audience and typ); WebSocket message routes run on a connection the
 * $connect authorizer has already admitted, and read its user from the authorizer context.
 */
function acknowledgeNoGatewayAuthorizer(scope: Construct, route: Route): void {
  Validations.of(scope).acknowledge({ id: 'AwsSolutions-APIG4', reason: noGatewayAuthorizerReason(route) });
}

/** Why a route has no gateway authorizer (cdk-nag's APIG4 and Control Tower's CT.APIGATEWAY.PR.5 ask the same). */
export function noGatewayAuthorizerReason(route: Route): string {
  const why =
    route.kind === 'ws' && route.routeKey !== '$connect'
      ? `WebSocket authorizers run on $connect only; later frames ride the connection admitted there${route.access === 'public' ? '' : ', and the handler reads its user from the authorizer context (else the connection row)'}.`
      : route.access === 'public'
        ? 'Public by design (manifest access: public); abuse is bounded by the route throttle and in-app rate limits.'
        : 'Authorization is done in-Lambda: the middleware verifies our own JWT (jose, pinned alg/iss/aud/typ) and checks the manifest access level.';
  return `${describeRoute(route)}: ${why}`;
}
