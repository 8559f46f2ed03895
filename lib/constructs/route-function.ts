// RouteFunction: the one way a Lambda is made. Each manifest route (and each route authorizer) gets
// a NodejsFunction with our defaults, its own role and log group, exactly the grants its manifest
// entry lists, a version per code/config change and a `live` alias that everything invokes (the
// alias is what a rollout shifts: all at once, or by a CodeDeploy canary).
import { join } from 'node:path';
import { ArnFormat, CfnParameter, Duration, NestedStack, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, MathExpression, TreatMissingData, type IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { LambdaDeploymentConfig, LambdaDeploymentGroup, type ILambdaApplication } from 'aws-cdk-lib/aws-codedeploy';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  Effect,
  Policy,
  PolicyDocument,
  PolicyStatement,
  Role,
  ServicePrincipal,
  type AddToPrincipalPolicyResult,
  type IRole,
  type RoleProps,
} from 'aws-cdk-lib/aws-iam';
import {
  Alias,
  Architecture,
  ParamsAndSecretsLayerVersion,
  ParamsAndSecretsLogLevel,
  ParamsAndSecretsVersions,
  Runtime,
  Tracing,
  type IVersion,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
// The function cdk-nag itself uses to name wildcard findings, so acknowledgements match exactly.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import { Construct, type IConstruct } from 'constructs';
import { lambdaBundling } from '../bundling.ts';
import type { BucketAction, BucketGrant, BucketId, Grant, QueueId, Route, ScheduledJob, SecretId, Worker, WsAuthorizer, WsRoute } from '../routes.ts';
import { tableDefinition, type TableId } from '../tables.ts';

export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

export const DEFAULT_MEMORY_MB = 256;
export const DEFAULT_TIMEOUT_SECONDS = 10;
/** A canary rolls back when the new version's p99 reaches this share of the function's timeout. */
export const ROLLBACK_DURATION_SHARE = 0.8;
/**
 * A year, in every stage: AWS Control Tower's CT.CLOUDWATCH.PR.2 asks for at least 365 days (an
 * organisation that turns the control on refuses anything shorter at deploy time, whatever the
 * stage), and a year of access logs is what an abuse or security investigation needs. Non-prod log
 * groups go with their stack anyway (logRemovalPolicy).
 */
export const LOG_RETENTION = RetentionDays.ONE_YEAR;

/** The stage whose logs outlive the stack; every other stage's log groups go with it. */
export const PROD_STAGE = 'prod';

/** Log groups are retained in prod (evidence after a delete) and destroyed elsewhere (no orphans per test stack). */
export function logRemovalPolicy(stage: string): RemovalPolicy {
  return stage === PROD_STAGE ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}
export const SERVICE_NAME = 'nexchat';
/** CloudWatch namespace of the business metrics (functions/wiring/metrics.ts; docs/operations.md). */
export const METRICS_NAMESPACE = 'NexChat';

/** Env var that carries each queue's URL into the functions allowed to send to it. */
export const queueEnvVars: Readonly<Record<QueueId, string>> = { otp: 'OTP_QUEUE_URL', presence: 'PRESENCE_QUEUE_URL' };

/** Env var that carries each secret's ARN into the functions allowed to read it. */
export const secretEnvVars: Readonly<Record<SecretId, string>> = { auth: 'AUTH_SECRET_ARN', alarmWebhook: 'ALARM_WEBHOOK_SECRET_ARN' };

/** Env var that carries each bucket's name into the functions granted rights on it. */
export const bucketEnvVars: Readonly<Record<BucketId, string>> = { attachments: 'ATTACHMENTS_BUCKET' };

/**
 * S3 actions per manifest bucket right. Object rights name `<bucket>/<prefix>*` only; `list` is
 * ListBucket on the bucket ARN, limited to keys under the prefix by an s3:prefix condition. `get`
 * covers HEAD too (HeadObject is authorized as s3:GetObject).
 */
export const S3_OBJECT_ACTIONS: Readonly<Record<Exclude<BucketAction, 'list'>, string>> = {
  put: 's3:PutObject',
  get: 's3:GetObject',
  delete: 's3:DeleteObject',
};
export const S3_LIST_ACTION = 's3:ListBucket';

/** Env var with the WebSocket stage's callback URL, set for routes with manageConnections. */
export const WS_CALLBACK_URL_ENV = 'WS_CALLBACK_URL';

/** Env vars carrying the per-deployment settings (functions/core/config.ts parses them). */
export const OTP_REQUIRED_FOR_ENV = 'OTP_REQUIRED_FOR';
export const JWT_ISSUER_ENV = 'JWT_ISSUER';
export const SES_FROM_ADDRESS_ENV = 'SES_FROM_ADDRESS';
export const MESSAGE_RETENTION_DAYS_ENV = 'MESSAGE_RETENTION_DAYS';

/**
 * Days messages are kept when context "messageRetentionDays" is not given: the default of
 * functions/core/config.ts (MESSAGE_RETENTION_DAYS), which tests/infra.test.ts checks is the same.
 */
export const DEFAULT_MESSAGE_RETENTION_DAYS = 365;

/**
 * DynamoDB data-plane actions per grant level. Never Scan: fan-out and lookups go by Query on a
 * key or GSI (house style 7), so a function that tries to Scan is refused by IAM.
 * Transactions need no actions of their own: TransactWriteItems and TransactGetItems are
 * authorized per item against PutItem, UpdateItem, DeleteItem, GetItem and ConditionCheckItem
 * ("Using IAM with DynamoDB transactions", DynamoDB developer guide; the service authorization
 * reference lists no dynamodb:Transact* action).
 */
export const DYNAMO_READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
] as const;
export const DYNAMO_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'] as const;
export const dynamoActions: Readonly<Record<Grant, readonly string[]>> = {
  read: DYNAMO_READ_ACTIONS,
  readwrite: [...DYNAMO_READ_ACTIONS, ...DYNAMO_WRITE_ACTIONS],
};
/** On a GSI the only data-plane read besides Scan is Query; item and write actions name the table. */
export const DYNAMO_INDEX_ACTIONS = ['dynamodb:Query'] as const;

/** Actions of the OTP senders (routes with notify: true). */
export const SES_SEND_ACTIONS = ['ses:SendEmail', 'ses:SendRawEmail'] as const;
export const SNS_PUBLISH_ACTION = 'sns:Publish';

/** Which sign-in flows ask for an OTP code; the values functions/core/config.ts accepts. */
export const OTP_REQUIRED_FOR_VALUES = ['none', 'register', 'login', 'register,login'] as const;
export type OtpRequiredFor = (typeof OTP_REQUIRED_FOR_VALUES)[number];

/** Where OTP email comes from. Required as soon as one route has notify: true. */
export interface NotifySettings {
  /** From address of OTP email: env SES_FROM_ADDRESS, and the ses:FromAddress the grant allows. */
  readonly sesFromAddress: string;
  /** SES identity to send as. Default: the from address's domain identity in this stack's account and region. */
  readonly sesIdentityArn?: string;
}

/** Per-deployment settings, read from CDK context and validated by bin/nexchat.ts. */
export interface DeploymentSettings {
  readonly otpRequiredFor: OtpRequiredFor;
  readonly jwtIssuer?: string;
  readonly notify?: NotifySettings;
  /** Browser origins allowed by the HTTP API's CORS (answered by API Gateway itself) and by the attachments bucket's. */
  readonly corsOrigins?: readonly string[];
  /**
   * Days a message is kept (MESSAGE_RETENTION_DAYS on every function when set; the code's default,
   * DEFAULT_MESSAGE_RETENTION_DAYS, otherwise). Attachment blobs expire a little later (the bucket's lifecycle).
   */
  readonly messageRetentionDays?: number;
}

/** Everything a route may be granted; which parts it actually gets is the manifest's call. */
export interface RouteResources {
  readonly tables: Readonly<Record<TableId, ITable>>;
  /** The secrets there are; a function granted one that is missing fails synth. */
  readonly secrets: Readonly<Partial<Record<SecretId, ISecret>>>;
  readonly queues?: Readonly<Partial<Record<QueueId, IQueue>>>;
  /** The buckets there are; a function granted rights on one that is missing fails synth. */
  readonly buckets?: Readonly<Partial<Record<BucketId, IBucket>>>;
  readonly webSocketStage: WebSocketStage;
  readonly settings: DeploymentSettings;
}

/**
 * What one Lambda is made from: its handler module, sizing and the grants the manifest lists.
 * A manifest route's handler (routeFunctionSpec) or the authorizer in front of a route
 * (authorizerFunctionSpec); both go through the same defaults and the same grant helper.
 */
export interface FunctionSpec {
  /** Names the construct, hence the Lambda, its role and its log group. */
  readonly id: string;
  /** Path of the handler module from the project root; it exports `handler`. */
  readonly handler: string;
  /** The Lambda's description: which route, what it does. */
  readonly description: string;
  readonly tables: Route['tables'];
  readonly secrets?: readonly SecretId[];
  readonly manageConnections?: boolean;
  readonly notify?: boolean;
  readonly memoryMb?: number;
  readonly timeoutSeconds?: number;
  /** Data files copied next to the bundle (project-relative paths), read by the code at run time. */
  readonly files?: readonly string[];
  /** Queues it sends to. */
  readonly enqueue?: readonly QueueId[];
  /** Object rights on buckets, each limited to a key prefix. */
  readonly buckets?: Readonly<Partial<Record<BucketId, BucketGrant>>>;
  /**
   * What invokes it: API Gateway (routes and authorizers), an SQS event source (workers), an
   * EventBridge schedule (scheduled jobs), an SNS subscription (the alarm forwarder) or CloudFormation (custom resources).
   */
  readonly trigger?: 'gateway' | 'queue' | 'schedule' | 'topic' | 'cloudformation';
}

/** The function that handles a manifest route. */
export function routeFunctionSpec(route: Route): FunctionSpec {
  return {
    id: route.id,
    handler: route.handler,
    description: `${describeRoute(route)}: ${route.summary}`,
    tables: route.tables,
    ...(route.secrets ? { secrets: route.secrets } : {}),
    ...(route.manageConnections ? { manageConnections: true } : {}),
    ...(route.notify ? { notify: true } : {}),
    ...(route.memoryMb ? { memoryMb: route.memoryMb } : {}),
    ...(route.timeoutSeconds ? { timeoutSeconds: route.timeoutSeconds } : {}),
    ...(route.files?.length ? { files: route.files } : {}),
    ...(route.enqueue?.length ? { enqueue: route.enqueue } : {}),
    ...(route.buckets ? { buckets: route.buckets } : {}),
  };
}

/** The function behind a queue: its own tables and rights; the stack adds the event source. */
export function workerFunctionSpec(worker: Worker): FunctionSpec {
  return {
    id: worker.id,
    handler: worker.handler,
    description: `queue ${worker.queue}: ${worker.summary}`,
    tables: worker.tables,
    trigger: 'queue',
    ...(worker.notify ? { notify: true } : {}),
    ...(worker.manageConnections ? { manageConnections: true } : {}),
    ...(worker.memoryMb ? { memoryMb: worker.memoryMb } : {}),
    ...(worker.timeoutSeconds ? { timeoutSeconds: worker.timeoutSeconds } : {}),
  };
}

/** The function a schedule runs: its own tables and bucket rights; the stack adds the EventBridge rule. */
export function scheduledJobFunctionSpec(job: ScheduledJob): FunctionSpec {
  return {
    id: job.id,
    handler: job.handler,
    description: `every ${job.everyMinutes} minutes: ${job.summary}`,
    tables: job.tables,
    trigger: 'schedule',
    ...(job.buckets ? { buckets: job.buckets } : {}),
    ...(job.memoryMb ? { memoryMb: job.memoryMb } : {}),
    ...(job.timeoutSeconds ? { timeoutSeconds: job.timeoutSeconds } : {}),
  };
}

/**
 * The Lambda REQUEST authorizer in front of a WebSocket route: its own tables only (no secrets, no
 * @connections, no OTP sending), default size.
 */
export function authorizerFunctionSpec(route: WsRoute, authorizer: WsAuthorizer): FunctionSpec {
  return {
    id: authorizer.id,
    handler: authorizer.handler,
    description: `${describeRoute(route)} authorizer: admits a connection by its ?${authorizer.queryParameter}= and names its user`,
    tables: authorizer.tables,
  };
}

export interface RouteFunctionProps extends RouteResources {
  readonly spec: FunctionSpec;
  /** NexChat stage name (dev, prod, ...), passed to the code as NEXCHAT_STAGE. */
  readonly stage: string;
  /** Encrypts the function's log group: the stack's one customer managed key for logs (lib/constructs/log-key.ts). */
  readonly logKey: IKey;
  /** Execution environments kept initialized on the `live` alias (no cold starts up to that many). @default none */
  readonly provisionedConcurrency?: number;
}

/** The name of the alias everything invokes. */
export const LIVE_ALIAS = 'live';

/** What CodeDeploy needs to shift a function's alias gradually (one application and role per stack). */
export interface CanaryOptions {
  readonly application: ILambdaApplication;
  /** The stack's one CodeDeploy service role, shared by every deployment group. */
  readonly role: IRole;
  /** Alarms that stop and roll back a deployment while any is in ALARM (1 to 10, CodeDeploy's limit). */
  readonly alarms: readonly IAlarm[];
}

/**
 * When the errors alarm made by errorsAlarm() fires: in one minute, at least ERRORS_MIN invocations
 * failed and they were at least ERRORS_RATE_PERCENT of all. The floor keeps a single timeout on a
 * quiet function from rolling a good deploy back; the rate keeps a busy function's usual noise from
 * it. A canary whose new version fails every call sends it 10% of traffic: a 10% error rate.
 */
export const ROLLOUT_ERRORS_MIN = 2;
export const ROLLOUT_ERRORS_RATE_PERCENT = 5;

export class RouteFunction extends Construct {
  readonly spec: FunctionSpec;
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  /**
   * The function's current version (`currentVersion`): its logical id is a hash of the function's
   * configuration and code (the bundle's asset hash), so a deploy makes a new version exactly when
   * one of them changed, and the alias moves to it.
   */
  readonly version: IVersion;
  /** The alias every caller invokes (integrations, authorizer, event source, invoke permissions). */
  readonly live: Alias;
  private canaryGroup?: LambdaDeploymentGroup;

  constructor(scope: Construct, id: string, props: RouteFunctionProps) {
    super(scope, id);
    const { spec } = props;
    this.spec = spec;

    // Created here rather than by Lambda: retention and encryption from day one, and the role can be
    // granted this log group only (no AWSLambdaBasicExecutionRole and its logs:* on every group).
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: LOG_RETENTION,
      removalPolicy: logRemovalPolicy(props.stage),
      encryptionKey: props.logKey,
    });
    this.role = new InlineGrantsRole(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `NexChat ${props.stage} ${spec.id}: runs its Lambda with its manifest grants only`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, spec.handler),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: spec.memoryMb ?? DEFAULT_MEMORY_MB,
      timeout: Duration.seconds(spec.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS),
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      role: this.role,
      description: spec.description.slice(0, 256),
      bundling: spec.files?.length ? { ...lambdaBundling, commandHooks: copyFiles(spec.files) } : lambdaBundling,
      // Functions that read a secret get the AWS Parameters and Secrets Extension: the code reads the
      // secret from the extension's localhost cache and bundles no Secrets Manager client.
      ...(spec.secrets?.length ? { paramsAndSecrets: secretsExtension() } : {}),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        NEXCHAT_STAGE: props.stage,
        SERVICE_NAME,
        // Business metrics (EMF), under Powertools' names for these settings.
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        [OTP_REQUIRED_FOR_ENV]: props.settings.otpRequiredFor,
        ...(props.settings.jwtIssuer ? { [JWT_ISSUER_ENV]: props.settings.jwtIssuer } : {}),
        ...(props.settings.messageRetentionDays ? { [MESSAGE_RETENTION_DAYS_ENV]: String(props.settings.messageRetentionDays) } : {}),
      },
    });

    grantRouteAccess(this.function, this.role, spec, props);

    // Acknowledgements sit on the exact CloudFormation resource cdk-nag flags, one rule each.
    Validations.of(this.function.node.defaultChild!).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: dlqReason[spec.trigger ?? 'gateway'],
    });
    Validations.of(rolePolicy(this.role)).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
    });
    // The same statement, seen by the Serverless pack, which reads a Lambda role's inline policies (the
    // grants are inline: see InlineGrantsRole). Every other statement names its resources.
    Validations.of(rolePolicy(this.role)).acknowledge({
      id: 'Serverless-LambdaStarPermissions',
      reason: 'X-Ray tracing is the role\'s only Resource "*": xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
    });

    // Versions are retained (CDK's default for currentVersion): the previous one stays available for
    // a CodeDeploy rollback and for shifting the alias back by hand.
    this.version = this.function.currentVersion;
    this.live = new Alias(this, 'Live', {
      aliasName: LIVE_ALIAS,
      version: this.version,
      ...(props.provisionedConcurrency ? { provisionedConcurrentExecutions: props.provisionedConcurrency } : {}),
    });
  }

  /** The CodeDeploy deployment group shifting `live`, once enableCanary() ran. */
  get deploymentGroup(): LambdaDeploymentGroup | undefined {
    return this.canaryGroup;
  }

  /**
   * Shift `live` to each new version by CodeDeploy: 10% for five minutes, then the rest; a failed
   * deployment, a stop request or any of the alarms in ALARM sends all traffic back to the old version
   * (and CloudFormation rolls the stack update back).
   */
  enableCanary(options: CanaryOptions): LambdaDeploymentGroup {
    if (this.canaryGroup) throw new Error(`${this.spec.id}: the canary is already enabled`);
    if (options.alarms.length < 1 || options.alarms.length > 10) {
      throw new Error(`${this.spec.id}: a canary deployment group takes 1 to 10 alarms (CodeDeploy's limit), got ${options.alarms.length}`);
    }
    this.canaryGroup = new LambdaDeploymentGroup(this, 'Canary', {
      application: options.application,
      alias: this.live,
      deploymentConfig: LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      role: options.role,
      alarms: [...options.alarms],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
    return this.canaryGroup;
  }

  /**
   * The canary's rollback alarms, beside the function (its area's nested stack): its fast errors alarm
   * and a p99 duration alarm against its timeout. They notify no one (the monitoring stack's alarms
   * do), so they reference nothing outside the function's stack and the monitoring stack can watch
   * the function without a dependency cycle.
   */
  rollbackAlarms(): Alarm[] {
    const timeoutSeconds = this.function.timeout?.toSeconds() ?? DEFAULT_TIMEOUT_SECONDS;
    const duration = new Alarm(this, 'DurationAlarm', {
      alarmDescription: `NexChat ${this.spec.id}: p99 duration at ${ROLLBACK_DURATION_SHARE * 100}% or more of its ${timeoutSeconds} s timeout for 2 of 3 minutes (rolls a canary deployment back)`,
      metric: this.function.metricDuration({ statistic: 'p99', period: Duration.minutes(1) }),
      threshold: Math.round(ROLLBACK_DURATION_SHARE * timeoutSeconds * 1000),
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    return [this.errorsAlarm(), duration];
  }

  /**
   * An alarm on this function's failed invocations (FunctionName-level metrics, every version: they
   * name the function, never the alias, so the alarm can live anywhere without depending on the
   * alias whose update policy names the deployment group). See ROLLOUT_ERRORS_MIN.
   */
  errorsAlarm(scope: Construct = this, id = 'ErrorsAlarm'): Alarm {
    const errors = this.function.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' });
    const invocations = this.function.metricInvocations({ period: Duration.minutes(1), statistic: 'Sum' });
    return new Alarm(scope, id, {
      alarmDescription: `NexChat ${this.spec.id}: at least ${ROLLOUT_ERRORS_MIN} failed invocations and ${ROLLOUT_ERRORS_RATE_PERCENT}% of all in a minute (rolls a canary deployment back)`,
      metric: new MathExpression({
        expression: `IF(errors >= ${ROLLOUT_ERRORS_MIN}, 100 * errors / invocations, 0)`,
        usingMetrics: { errors, invocations },
        period: Duration.minutes(1),
        label: 'failed invocations (%)',
      }),
      threshold: ROLLOUT_ERRORS_RATE_PERCENT,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}

/**
 * A role whose grants live in one inline policy of the role itself instead of the separate
 * AWS::IAM::Policy ("DefaultPolicy") CDK makes by default: the same statements (minimized alike), one
 * CloudFormation resource less per function, which keeps the stack under its 500-resource limit once
 * every function also has a version, an alias and a deployment group. In IAM both are inline
 * policies of the role; the function waits for the role either way.
 */
class InlineGrantsRole extends Role {
  private readonly inlineGrants: PolicyDocument;

  constructor(scope: Construct, id: string, props: RoleProps) {
    const inlineGrants = new PolicyDocument();
    super(scope, id, { ...props, inlinePolicies: { ...props.inlinePolicies, Grants: inlineGrants } });
    this.inlineGrants = inlineGrants;
  }

  override addToPrincipalPolicy(statement: PolicyStatement): AddToPrincipalPolicyResult {
    this.inlineGrants.addStatements(statement);
    return { statementAdded: true, policyDependable: this };
  }
}

/** Why a function has no Lambda dead-letter queue, by what invokes it. */
const dlqReason: Readonly<Record<NonNullable<FunctionSpec['trigger']>, string>> = {
  gateway: 'Invoked synchronously by API Gateway only; a dead-letter queue receives failed asynchronous invocations and would stay empty.',
  schedule:
    "Invoked by its EventBridge schedule, whose events carry no data: a failed run (after Lambda's two retries) has nothing a dead-letter queue could replay, the next scheduled run redoes the work from the table, and the errors alarm reports the failure.",
  queue:
    "Invoked by an SQS event source mapping: a message it fails goes to its queue's dead-letter queue (redrive policy), which a Lambda DLQ (asynchronous invocations only) would never receive.",
  topic:
    "Forwards alarm notifications to chat: one it fails after the retries is lost to the chat only; the alarm stays in its state in CloudWatch, email subscribers of the same topic get it, and an alarm on this function's errors says so.",
  cloudformation:
    'A CloudFormation custom resource: it answers every request itself (FAILED included) on the presigned response URL, and CloudFormation reports a failure in the stack events; a DLQ would add nothing.',
};

/** Local bundling runs these after esbuild: each data file lands next to index.mjs, flat. */
function copyFiles(files: readonly string[]) {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir: string, outputDir: string) => files.map((f) => `cp "${join(inputDir, f)}" "${outputDir}/"`),
  };
}

/** The secrets extension layer, caching for as long as our own key cache (5 minutes). */
function secretsExtension(): ParamsAndSecretsLayerVersion {
  return ParamsAndSecretsLayerVersion.fromVersion(ParamsAndSecretsVersions.V1_0_103, {
    cacheSize: 10,
    secretsManagerTtl: Duration.minutes(5),
    logLevel: ParamsAndSecretsLogLevel.WARN,
  });
}

/** "GET /api/health" or "ws $connect": how a route is named in descriptions and reports. */
export function describeRoute(route: Route): string {
  return route.kind === 'http' ? `${route.method} ${route.path}` : `ws ${route.routeKey}`;
}

/**
 * The least-privilege grant helper: data-plane access to exactly the tables the manifest lists
 * (read or read-write, never Scan) and Query on their own GSIs, read access to the listed
 * secrets, ManageConnections on this stage's @connections only when asked, OTP sending only for
 * notify routes. The matching env vars are set for granted resources only, so code that reaches
 * for anything else fails at once ("X_TABLE is not set").
 */
export function grantRouteAccess(fn: NodejsFunction, role: Role, spec: FunctionSpec, resources: RouteResources): void {
  for (const [id, grant] of Object.entries(spec.tables) as [TableId, Grant | undefined][]) {
    if (!grant) continue;
    const def = tableDefinition(id);
    const table = resources.tables[id];
    role.addToPrincipalPolicy(new PolicyStatement({ actions: [...dynamoActions[grant]], resources: [table.tableArn] }));
    if (def.indexes.length > 0) {
      role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: [...DYNAMO_INDEX_ACTIONS],
          resources: def.indexes.map((index) => `${table.tableArn}/index/${index.name}`),
        }),
      );
    }
    // Tables use the AWS managed key today (no key grant needed); a customer managed key
    // would need key use too, as grantReadData/grantReadWriteData would have given.
    if (table.encryptionKey) {
      if (grant === 'readwrite') table.encryptionKey.grantEncryptDecrypt(role);
      else table.encryptionKey.grantDecrypt(role);
    }
    fn.addEnvironment(def.envVar, table.tableName);
  }

  for (const id of spec.secrets ?? []) {
    const secret = resources.secrets[id];
    if (!secret) throw new Error(`function ${spec.id} reads secret ${id}, which the stack does not have`);
    secret.grantRead(role);
    fn.addEnvironment(secretEnvVars[id], secret.secretArn);
  }

  for (const id of spec.enqueue ?? []) {
    const queue = resources.queues?.[id];
    if (!queue) throw new Error(`route ${spec.id} sends to queue ${id}, which the stack does not have`);
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
    fn.addEnvironment(queueEnvVars[id], queue.queueUrl);
  }

  if (spec.manageConnections) {
    const stage = resources.webSocketStage;
    const connectionsArn = Stack.of(role).formatArn({
      service: 'execute-api',
      resource: apiIdIn(Stack.of(role), stage),
      resourceName: `${stage.stageName}/*/@connections/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['execute-api:ManageConnections'], resources: [connectionsArn] }));
    fn.addEnvironment(WS_CALLBACK_URL_ENV, stage.callbackUrl);
    Validations.of(rolePolicy(role)).acknowledge({
      id: wildcardFinding(role, connectionsArn),
      reason: "Connection ids are only known at run time; the grant is limited to this API stage's @connections (POST/GET/DELETE).",
    });
  }

  for (const [id, grant] of Object.entries(spec.buckets ?? {}) as [BucketId, BucketGrant | undefined][]) {
    if (grant) grantBucket(fn, role, spec, id, grant, resources.buckets?.[id]);
  }

  if (spec.notify) grantNotify(fn, role, spec, resources.settings.notify);
}

/**
 * Object rights on one bucket, as the manifest lists them: the object actions on `<bucket>/<prefix>*`
 * only, ListBucket on the bucket limited to keys under the prefix, and the bucket's name in the
 * environment. The bucket is not the tables' customer managed key kind: it is encrypted with S3
 * managed keys (lib/constructs/attachments-bucket.ts), so no key grant.
 */
function grantBucket(fn: NodejsFunction, role: Role, spec: FunctionSpec, id: BucketId, grant: BucketGrant, bucket: IBucket | undefined): void {
  if (!bucket) throw new Error(`function ${spec.id} has rights on bucket ${id}, which the stack does not have`);
  if (!/^[A-Za-z0-9!_.()'-]+(?:\/[A-Za-z0-9!_.()'-]+)*\/$/.test(grant.prefix)) {
    throw new Error(`function ${spec.id}: bucket ${id} prefix ${JSON.stringify(grant.prefix)} must be a key prefix ending in "/", without wildcards`);
  }
  const unknown = grant.actions.filter((a) => a !== 'list' && !(a in S3_OBJECT_ACTIONS));
  if (grant.actions.length === 0 || unknown.length > 0) throw new Error(`function ${spec.id}: bucket ${id} rights must be some of put, get, delete, list`);
  const stack = Stack.of(role);
  const name = bucketNameIn(stack, id, bucket);
  const bucketArn = stack.formatArn({ service: 's3', region: '', account: '', resource: name, arnFormat: ArnFormat.NO_RESOURCE_NAME });
  const objects = [...new Set(grant.actions)].flatMap((a) => (a === 'list' ? [] : [S3_OBJECT_ACTIONS[a]]));
  if (objects.length > 0) {
    const objectArn = `${bucketArn}/${grant.prefix}*`;
    role.addToPrincipalPolicy(new PolicyStatement({ actions: objects, resources: [objectArn] }));
    Validations.of(rolePolicy(role)).acknowledge({
      id: wildcardFinding(role, objectArn),
      reason: `Object keys (${grant.prefix}<owner>/<attachment id>) are only known at run time; the grant is ${objects.join(', ')} on keys under ${grant.prefix} of the ${id} bucket only.`,
    });
  }
  if (grant.actions.includes('list')) {
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: [S3_LIST_ACTION], resources: [bucketArn], conditions: { StringLike: { 's3:prefix': [`${grant.prefix}*`] } } }),
    );
  }
  fn.addEnvironment(bucketEnvVars[id], name);
}

/**
 * A bucket's name as the function's own stack sees it: in a nested stack, a parameter of that stack set
 * by its parent (one per bucket and nested stack), like the WebSocket API id (apiIdIn), so the grant's
 * cdk-nag acknowledgement names the finding as cdk-nag renders it.
 */
function bucketNameIn(stack: Stack, id: BucketId, bucket: IBucket): string {
  if (stack === Stack.of(bucket) || !(stack instanceof NestedStack)) return bucket.bucketName;
  const parameterId = `${id.charAt(0).toUpperCase()}${id.slice(1)}BucketName`;
  const existing = stack.node.tryFindChild(parameterId) as CfnParameter | undefined;
  if (existing) return existing.valueAsString;
  const parameter = new CfnParameter(stack, parameterId, {
    type: 'String',
    description: `The ${id} bucket, on which some of these functions have object rights`,
  });
  stack.setParameter(parameter.logicalId, bucket.bucketName);
  return parameter.valueAsString;
}

/**
 * OTP delivery. Email: SendEmail/SendRawEmail on one SES identity, and only from the configured
 * address. SMS: sns:Publish to a phone number has no resource ARN (IAM evaluates the number
 * itself) and Publish has no condition key for the destination (sns:Protocol and sns:Endpoint
 * apply to Subscribe only), so it needs Resource "*". That lives in its own policy, with an
 * explicit Deny on every SNS ARN (topics, platform endpoints), leaving only direct SMS.
 */
function grantNotify(fn: NodejsFunction, role: Role, spec: FunctionSpec, notify: NotifySettings | undefined): void {
  if (!notify) {
    throw new Error(
      `route ${spec.id} sends OTP messages (notify: true), so the deployment needs a From address: ` +
        'set context "sesFromAddress", e.g. `cdk deploy -c sesFromAddress=no-reply@example.com` (or `npm run synth -- -c ...`)',
    );
  }
  const stack = Stack.of(role);
  const identityArn =
    notify.sesIdentityArn ??
    stack.formatArn({ service: 'ses', resource: 'identity', resourceName: emailDomain(notify.sesFromAddress), arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: [...SES_SEND_ACTIONS],
      resources: [identityArn],
      conditions: { StringEquals: { 'ses:FromAddress': notify.sesFromAddress } },
    }),
  );
  fn.addEnvironment(SES_FROM_ADDRESS_ENV, notify.sesFromAddress);

  const sms = new Policy(role, 'SmsPolicy', {
    roles: [role],
    statements: [
      new PolicyStatement({ sid: 'PublishSms', actions: [SNS_PUBLISH_ACTION], resources: ['*'] }),
      new PolicyStatement({
        sid: 'NoTopicsOrEndpoints',
        effect: Effect.DENY,
        actions: [SNS_PUBLISH_ACTION],
        resources: [`arn:${stack.partition}:sns:*:*:*`],
      }),
    ],
  });
  // Separate from the role's inline grants; the function waits for it too: no first call before SMS is allowed.
  fn.node.addDependency(sms);
  Validations.of(sms.node.defaultChild!).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'OTP by SMS: sns:Publish to a phone number has no resource ARN and no destination condition key; the Deny in this policy removes every topic and platform endpoint, leaving direct SMS only.',
  });
}

/** "no-reply@example.com" -> "example.com" (bin/nexchat.ts has validated the address). */
function emailDomain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/** The CloudFormation resource holding a role's grants: the role itself (InlineGrantsRole). */
function rolePolicy(role: Role): IConstruct {
  if (!(role instanceof InlineGrantsRole)) throw new Error(`${role.node.path}: grants are expected inline in the role`);
  return role.node.defaultChild!;
}

/** The id cdk-nag gives an IAM5 (wildcard) finding on `resourceArn`. */
/**
 * The WebSocket API's id as the function's own stack sees it. In a nested stack, a parameter of that
 * stack set by its parent (one per nested stack), rather than the reference CDK would make at
 * synthesis: the grant's cdk-nag acknowledgement must name the finding as cdk-nag renders it, and a
 * parameter of our own has its name already when the acknowledgement is written.
 */
function apiIdIn(stack: Stack, stage: WebSocketStage): string {
  if (stack === Stack.of(stage) || !(stack instanceof NestedStack)) return stage.api.apiId;
  const id = 'WebSocketApiId';
  const existing = stack.node.tryFindChild(id) as CfnParameter | undefined;
  if (existing) return existing.valueAsString;
  const parameter = new CfnParameter(stack, id, { type: 'String', description: 'The WebSocket API whose @connections the functions manage' });
  stack.setParameter(parameter.logicalId, stage.api.apiId);
  return parameter.valueAsString;
}

function wildcardFinding(scope: Construct, resourceArn: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(resourceArn))}]`;
}
