// NexChatStack: one stage of NexChat. Tables from lib/tables.ts, one Lambda per route of the
// manifest (lib/routes.ts) behind an HTTP API and a WebSocket API, plus one per route authorizer
// ($connect's ticket check), the auth secret, gateway throttles and access logs. Nothing has a
// hard-coded physical name (access log groups are named after the stack), so stages coexist.
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat, CfnAccount } from 'aws-cdk-lib/aws-apigateway';
import {
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
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { CfnEventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
// The function cdk-nag itself uses to name findings, so acknowledgements match exactly.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { Construct } from 'constructs';
import {
  LOG_RETENTION,
  RouteFunction,
  logRemovalPolicy,
  authorizerFunctionSpec,
  describeRoute,
  routeFunctionSpec,
  workerFunctionSpec,
  PROD_STAGE,
  type DeploymentSettings,
  type FunctionSpec,
} from './constructs/route-function.ts';
import {
  allRoutes,
  allWorkers,
  httpRouteKey,
  queueSettings,
  type QueueId,
  stageThrottle,
  type HttpRoute as ManifestHttpRoute,
  type Route,
  type SecretId,
  type Throttle,
  type WsRoute as ManifestWsRoute,
} from './routes.ts';
import { corsPolicy } from './cors.ts';
import { Edge, type EdgeSettings } from './constructs/edge.ts';
import { tables, type KeyAttribute, type TableId } from './tables.ts';

export interface NexChatStackProps extends StackProps {
  /** Stage name: dev, prod, a developer's name... Also the WebSocket API's stage name. */
  readonly stage: string;
  /** OTP policy, JWT issuer, SES sender: passed to the functions (bin/nexchat.ts reads them from context). */
  readonly settings: DeploymentSettings;
  /**
   * Create API Gateway's account-level CloudWatch Logs role (AWS::ApiGateway::Account). Needed once
   * per account and region before a WebSocket stage can write access logs; one stage owns it.
   * @default false
   */
  readonly apiGatewayAccountRole?: boolean;
  /** The routes to deploy. Tests pass extra synthetic routes; deployments use the manifest. @default allRoutes */
  readonly routes?: readonly Route[];
  /** CloudFront + WAF in front of both APIs on a custom domain (lib/constructs/edge.ts); absent, nothing changes. */
  readonly edge?: EdgeSettings;
}

/** Prefix of the access log groups: AWS log delivery writes under it without growing the region's Logs resource policy. */
export const ACCESS_LOG_PREFIX = '/aws/vendedlogs/nexchat';

/** The AWS managed policy API Gateway's account CloudWatch role needs (and all it needs). */
const API_GATEWAY_LOGS_POLICY = 'service-role/AmazonAPIGatewayPushToCloudWatchLogs';

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
  readonly tables: Readonly<Record<TableId, Table>>;
  readonly secrets: Readonly<Record<SecretId, Secret>>;
  readonly httpApi: HttpApi;
  readonly httpStage: HttpStage;
  readonly webSocketApi: WebSocketApi;
  readonly webSocketStage: WebSocketStage;
  /** One per manifest route, per route authorizer and per worker, keyed by their ids. */
  readonly functions: Readonly<Record<string, RouteFunction>>;
  /** Queues between functions (OTP delivery), each with its dead-letter queue and depth alarm. */
  readonly queues: Readonly<Record<QueueId, { readonly queue: Queue; readonly deadLetters: Queue; readonly alarm: Alarm }>>;
  /** API Gateway's account-level CloudWatch Logs setting, when this stack owns it. */
  readonly apiGatewayAccount?: CfnAccount;
  /** The edge (distribution, origins, and its us-east-1 firewall stack), when context turns it on. */
  readonly edge?: Edge;

  constructor(scope: Construct, id: string, props: NexChatStackProps) {
    super(scope, id, props);
    this.stage = props.stage;
    const routes = props.routes ?? allRoutes;
    const httpRoutes = routes.filter((r): r is ManifestHttpRoute => r.kind === 'http');
    const wsRoutes = routes.filter((r): r is ManifestWsRoute => r.kind === 'ws');

    this.tables = this.createTables();

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

    if (props.apiGatewayAccountRole) {
      this.apiGatewayAccount = this.createApiGatewayAccount();
      // A WebSocket stage with access logs cannot be created until the account has the role.
      this.webSocketStage.node.addDependency(this.apiGatewayAccount);
    }

    // --- one function per manifest route and per route authorizer, one gateway route per route ---
    for (const route of wsRoutes) checkAuthorizer(route);
    this.queues = { otp: this.createQueue('otp', allWorkers.find((w) => w.queue === 'otp')?.timeoutSeconds ?? 10) };
    const workers = allWorkers;
    const specs: FunctionSpec[] = [
      ...routes.map(routeFunctionSpec),
      ...wsRoutes.flatMap((r) => (r.authorizer ? [authorizerFunctionSpec(r, r.authorizer)] : [])),
      ...workers.map(workerFunctionSpec),
    ];
    const functions: Record<string, RouteFunction> = {};
    for (const spec of specs) {
      if (functions[spec.id]) throw new Error(`function id ${spec.id} is used twice (route and authorizer ids name Lambdas, so they must be unique)`);
      functions[spec.id] = new RouteFunction(this, spec.id, {
        spec,
        stage: props.stage,
        tables: this.tables,
        secrets: this.secrets,
        queues: { otp: this.queues.otp.queue },
        webSocketStage: this.webSocketStage,
        settings: props.settings,
      });
    }
    this.functions = functions;
    // Workers consume their queue; a message reported as failed is retried, then dead-lettered.
    for (const worker of workers) {
      const source = new SqsEventSource(this.queues[worker.queue].queue, { batchSize: 10, reportBatchItemFailures: true });
      functions[worker.id]!.function.addEventSource(source);
      const mapping = functions[worker.id]!.function.node.findAll().find((c) => c instanceof CfnEventSourceMapping);
      Validations.of(mapping!).acknowledge({
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason:
          "SQS event sources take no on-failure destination (streams and Kafka do): a message that fails every attempt goes to the queue's redrive dead-letter queue, which raises an alarm.",
      });
    }

    const httpCfnRoutes: CfnRoute[] = [];
    for (const route of httpRoutes) {
      const fn = functions[route.id]!.function;
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
      const fn = functions[route.id]!.function;
      // A Lambda REQUEST authorizer (type CUSTOM on the route; CDK also lets API Gateway invoke the
      // function, from this authorizer only). WebSocket authorizers cache nothing (result TTLs
      // exist for HTTP APIs only), which a single-use ticket needs: every connect is checked anew.
      // With the identity source set, a request without the parameter is refused before any Lambda runs.
      const authorizer = route.authorizer
        ? new WebSocketLambdaAuthorizer(route.authorizer.id, functions[route.authorizer.id]!.function, {
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
  }

  /**
   * A queue between functions: encrypted, TLS only, short retention; after maxReceiveCount failed
   * attempts a message moves to the dead-letter queue (kept 14 days for inspection), and any
   * message there sets off an alarm. Visibility is six times the consumer's timeout (AWS's advice).
   */
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
   * The account/region-wide role API Gateway writes logs with. Retained: other stages in the same
   * account rely on it, so deleting this stage must not take it away.
   */
  private createApiGatewayAccount(): CfnAccount {
    const logsPolicy = ManagedPolicy.fromAwsManagedPolicyName(API_GATEWAY_LOGS_POLICY);
    const role = new Role(this, 'ApiGatewayCloudWatchRole', {
      assumedBy: new ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway (account-wide, this region): writes API access and execution logs to CloudWatch Logs',
      managedPolicies: [logsPolicy],
    });
    role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    const policyArn = this.resolve(logsPolicy.managedPolicyArn);
    Validations.of(role.node.defaultChild!).acknowledge({
      id: `AwsSolutions-IAM4[Policy::${flattenCfnReference(policyArn)}]`,
      reason:
        'AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for the API Gateway account role; API Gateway creates its log groups itself, so it cannot be scoped to ours.',
    });
    const account = new CfnAccount(this, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
    account.applyRemovalPolicy(RemovalPolicy.RETAIN);
    return account;
  }

  /**
   * An API access log group, named under /aws/vendedlogs/ so that delivering to it adds nothing to
   * the region's shared CloudWatch Logs resource policy (a 5,120-character limit shared by every
   * stack); the stack name keeps two stages apart. Destroyed with the stack outside prod.
   */
  private accessLogGroup(id: string, suffix: string, stage: string): LogGroup {
    return new LogGroup(this, id, {
      logGroupName: `${ACCESS_LOG_PREFIX}/${this.stackName}/${suffix}`,
      retention: LOG_RETENTION,
      removalPolicy: logRemovalPolicy(stage),
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
  const why =
    route.kind === 'ws' && route.routeKey !== '$connect'
      ? `WebSocket authorizers run on $connect only; later frames ride the connection admitted there${route.access === 'public' ? '' : ', and the handler reads its user from the authorizer context (else the connection row)'}.`
      : route.access === 'public'
        ? 'Public by design (manifest access: public); abuse is bounded by the route throttle and in-app rate limits.'
        : 'Authorization is done in-Lambda: the middleware verifies our own JWT (jose, pinned alg/iss/aud/typ) and checks the manifest access level.';
  Validations.of(scope).acknowledge({ id: 'AwsSolutions-APIG4', reason: `${describeRoute(route)}: ${why}` });
}
