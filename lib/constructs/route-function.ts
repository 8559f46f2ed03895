// RouteFunction: the one way a Lambda is made. Each manifest route gets a NodejsFunction with our
// defaults, its own role and log group, and exactly the grants its manifest entry lists.
import { join } from 'node:path';
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
// The function cdk-nag itself uses to name wildcard findings, so acknowledgements match exactly.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import { Construct, type IConstruct } from 'constructs';
import { lambdaBundling } from '../bundling.ts';
import type { Grant, Route, SecretId } from '../routes.ts';
import { tableDefinition, type TableId } from '../tables.ts';

export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

export const DEFAULT_MEMORY_MB = 256;
export const DEFAULT_TIMEOUT_SECONDS = 10;
export const LOG_RETENTION = RetentionDays.ONE_MONTH;
export const SERVICE_NAME = 'nexchat';

/** Env var that carries each secret's ARN into the functions allowed to read it. */
export const secretEnvVars: Readonly<Record<SecretId, string>> = { auth: 'AUTH_SECRET_ARN' };

/** Env var with the WebSocket stage's callback URL, set for routes with manageConnections. */
export const WS_CALLBACK_URL_ENV = 'WS_CALLBACK_URL';

/** Everything a route may be granted; which parts it actually gets is the manifest's call. */
export interface RouteResources {
  readonly tables: Readonly<Record<TableId, ITable>>;
  readonly secrets: Readonly<Record<SecretId, ISecret>>;
  readonly webSocketStage: WebSocketStage;
}

export interface RouteFunctionProps extends RouteResources {
  readonly route: Route;
  /** NexChat stage name (dev, prod, ...), passed to the code as NEXCHAT_STAGE. */
  readonly stage: string;
}

export class RouteFunction extends Construct {
  readonly route: Route;
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: RouteFunctionProps) {
    super(scope, id);
    const { route } = props;
    this.route = route;

    // Created here rather than by Lambda: a retention period from day one, and the role can be
    // granted this log group only (no AWSLambdaBasicExecutionRole and its logs:* on every group).
    this.logGroup = new LogGroup(this, 'Logs', { retention: LOG_RETENTION });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `NexChat ${props.stage} ${route.id}: runs the route's Lambda with its manifest grants only`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, route.handler),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: route.memoryMb ?? DEFAULT_MEMORY_MB,
      timeout: Duration.seconds(route.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS),
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      role: this.role,
      description: `${describeRoute(route)}: ${route.summary}`.slice(0, 256),
      bundling: lambdaBundling,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        NEXCHAT_STAGE: props.stage,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      },
    });

    grantRouteAccess(this.function, this.role, route, props);

    // Acknowledgements sit on the exact CloudFormation resource cdk-nag flags, one rule each.
    Validations.of(this.function.node.defaultChild!).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: 'Invoked synchronously by API Gateway only; a dead-letter queue receives failed asynchronous invocations and would stay empty.',
    });
    Validations.of(rolePolicy(this.role)).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
    });
  }
}

/** "GET /api/health" or "ws $connect": how a route is named in descriptions and reports. */
export function describeRoute(route: Route): string {
  return route.kind === 'http' ? `${route.method} ${route.path}` : `ws ${route.routeKey}`;
}

/**
 * The least-privilege grant helper: data-plane access to exactly the tables the manifest lists
 * (read or read-write), read access to the listed secrets, ManageConnections on this stage's
 * @connections only when asked. The matching env vars are set for granted resources only, so
 * code that reaches for anything else fails at once ("X_TABLE is not set").
 */
export function grantRouteAccess(fn: NodejsFunction, role: Role, route: Route, resources: RouteResources): void {
  for (const [id, grant] of Object.entries(route.tables) as [TableId, Grant | undefined][]) {
    if (!grant) continue;
    const def = tableDefinition(id);
    const table = resources.tables[id];
    if (grant === 'readwrite') table.grantReadWriteData(role);
    else table.grantReadData(role);
    fn.addEnvironment(def.envVar, table.tableName);
    if (def.indexes.length > 0) {
      Validations.of(rolePolicy(role)).acknowledge({
        id: wildcardFinding(role, `${table.tableArn}/index/*`),
        reason: `Queries the ${id} table's own GSIs (${def.indexes.map((i) => i.name).join(', ')}); the grant names this table, /index/* covers only its indexes.`,
      });
    }
  }

  for (const id of route.secrets ?? []) {
    const secret = resources.secrets[id];
    secret.grantRead(role);
    fn.addEnvironment(secretEnvVars[id], secret.secretArn);
  }

  if (route.manageConnections) {
    const stage = resources.webSocketStage;
    const connectionsArn = Stack.of(stage).formatArn({
      service: 'execute-api',
      resource: stage.api.apiId,
      resourceName: `${stage.stageName}/*/@connections/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['execute-api:ManageConnections'], resources: [connectionsArn] }));
    fn.addEnvironment(WS_CALLBACK_URL_ENV, stage.callbackUrl);
    Validations.of(rolePolicy(role)).acknowledge({
      id: wildcardFinding(role, connectionsArn),
      reason: 'Connection ids are only known at run time; the grant is limited to this API stage\'s @connections (POST/GET/DELETE).',
    });
  }
}

/** The CloudFormation policy holding a role's grants (the role's DefaultPolicy, made by the first grant). */
function rolePolicy(role: Role): IConstruct {
  const policy = role.node.findChild('DefaultPolicy');
  return policy.node.defaultChild ?? policy;
}

/** The id cdk-nag gives an IAM5 (wildcard) finding on `resourceArn`. */
function wildcardFinding(scope: Construct, resourceArn: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(resourceArn))}]`;
}
