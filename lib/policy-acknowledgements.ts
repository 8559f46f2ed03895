// AWS Control Tower's proactive controls, run at synth by the cfn-guard plugin, and the one table of
// what they flag on purpose. A finding is fixed at its cause or matched here, per resource, by a row
// with a reason; anything no row matches fails `npm run synth` and tests/infra/guard.test.ts.
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  Aspects,
  CfnResource,
  Stack,
  Validations,
  type IAspect,
  type IPolicyValidationContextBeta1,
  type IPolicyValidationPluginBeta1,
  type PolicyValidationPluginReportBeta1,
} from 'aws-cdk-lib';
import { CfnRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { CfnAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { CfnFunction, CfnPermission } from 'aws-cdk-lib/aws-lambda';
import { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { DELETED_LOG_RECOVERY_DAYS } from './constructs/attachments-bucket.ts';
import { RouteFunction } from './constructs/route-function.ts';
import { NexChatStack, noGatewayAuthorizerReason } from './nexchat-stack.ts';
import { httpRouteKey, type Route } from './routes.ts';

/** The plugin's name, hence the namespace of its rule ids in acknowledgements and reports. */
export const CONTROL_TOWER_PLUGIN = 'cdk-validator-cfnguard';

/**
 * The plugin with all of its bundled Control Tower rules (none disabled: a rule that does not fit is
 * acknowledged per resource below, so it still guards every resource added later). cfn-guard's JSON
 * answer grows with the findings (2 MB for the 217 of the first run), hence the larger buffer.
 */
export function controlTowerChecks(): IPolicyValidationPluginBeta1 {
  return new WithNestedTemplates(new CfnGuardValidator({ maxBuffer: 64 * 1024 * 1024 }));
}

/**
 * CDK hands validation plugins the top-level stacks' templates only; nested stacks' templates (the
 * monitoring stack) sit beside them as `*.nested.template.json`. This passes those too, under the
 * plugin's own name, so acknowledgements and construct paths work the same for them.
 */
class WithNestedTemplates implements IPolicyValidationPluginBeta1 {
  readonly name: string;
  readonly version?: string;
  readonly ruleIds?: string[];
  private readonly inner: IPolicyValidationPluginBeta1;

  constructor(inner: IPolicyValidationPluginBeta1) {
    this.inner = inner;
    this.name = inner.name;
    if (inner.version !== undefined) this.version = inner.version;
    if (inner.ruleIds !== undefined) this.ruleIds = inner.ruleIds;
  }

  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    const dirs = new Set(context.templatePaths.map((p) => dirname(p)));
    const copies = mkdtempSync(join(tmpdir(), 'nexchat-nested-'));
    const nested = [...dirs].flatMap((dir) =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.nested.template.json'))
        .map((f) => withParametersAsText(join(dir, f), join(copies, f))),
    );
    try {
      return this.inner.validate({ ...context, templatePaths: [...context.templatePaths, ...nested] });
    } finally {
      rmSync(copies, { recursive: true, force: true });
    }
  }
}

/**
 * A nested template whose references to its own parameters read as text ("{{parameter Name}}"): the
 * cfn-guard plugin follows a Ref into the Parameters section and then fails on what it finds there
 * (a parameter has no value in the template), so a function's log group, whose key ARN comes from the
 * parent as a parameter, would stop the whole check. The rules only need to see that the property is
 * set; what the parameter holds is checked where it is made, in the parent's template.
 */
function withParametersAsText(from: string, to: string): string {
  const template = JSON.parse(readFileSync(from, 'utf8')) as { Parameters?: Record<string, unknown>; Resources?: unknown };
  const parameters = new Set(Object.keys(template.Parameters ?? {}));
  const asText = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(asText);
    if (value === null || typeof value !== 'object') return value;
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && typeof o.Ref === 'string' && parameters.has(o.Ref)) return `{{parameter ${o.Ref}}}`;
    return Object.fromEntries(keys.map((k) => [k, asText(o[k])]));
  };
  const { Parameters: _parameters, ...rest } = template;
  writeFileSync(to, JSON.stringify({ ...rest, Resources: asText(template.Resources) }));
  return to;
}

/** The id `Validations.acknowledge` needs for a cfn-guard rule: without the plugin's namespace it suppresses nothing. */
export const acknowledgementId = (rule: string) => `${CONTROL_TOWER_PLUGIN}::${rule}`;

/** One row: a rule, the resources it may be acknowledged on, and why. */
export interface PolicyAcknowledgement {
  /** The Control Tower control, as the finding's description names it, e.g. CT.LAMBDA.PR.3. */
  readonly control: string;
  /** The cfn-guard rule the plugin reports, e.g. lambda_inside_vpc_check. */
  readonly rule: string;
  /** Which resources, in words. */
  readonly resources: string;
  /** Which resources, as a test on one CloudFormation resource: as narrow as the reason is true. */
  readonly appliesTo: (resource: CfnResource) => boolean;
  /** Why, for that resource: a design decision, a false positive shown to be one, or a hand-over with the condition that ends it. */
  readonly reason: (resource: CfnResource) => string;
}

export const policyAcknowledgements: readonly PolicyAcknowledgement[] = [
  {
    control: 'CT.APIGATEWAY.PR.5',
    rule: 'api_gw_v2_authorization_type_configured_check',
    resources: 'gateway routes of a manifest route without a gateway authorizer (every route but $connect)',
    appliesTo: (r) => unauthorizedManifestRoute(r) !== undefined,
    reason: (r) => noGatewayAuthorizerReason(unauthorizedManifestRoute(r)!),
  },
  {
    control: 'CT.LAMBDA.PR.2',
    rule: 'lambda_function_public_access_prohibited_check',
    resources: "API Gateway's permissions to invoke a function, limited by SourceArn to this stack's HTTP or WebSocket API",
    appliesTo: (r) => ownApiOfPermission(r) !== undefined,
    reason: (r) =>
      `False positive: SourceArn limits the invocation to this stack's ${ownApiOfPermission(r)} API (arn:...:execute-api:<region>:<account>:<api id>/...), ` +
      'but CDK writes that ARN as Fn::Join and the rule accepts only a literal string or a Ref/GetAtt, so it reads as no SourceArn at all.',
  },
  {
    control: 'CT.LAMBDA.PR.3',
    rule: 'lambda_inside_vpc_check',
    resources: 'every function made by RouteFunction (routes, authorizers, queue workers)',
    appliesTo: (r) => routeFunctionOf(r) !== undefined,
    reason: (r) =>
      `${routeFunctionOf(r)!.spec.id}: outside a VPC by design. It reaches only AWS service APIs (DynamoDB, SQS, SES, SNS, Secrets Manager, ` +
      '@connections, X-Ray) over TLS with IAM-signed requests and nothing private; a VPC would add NAT or an interface endpoint per service, ' +
      'cost and cold-start latency, and protect no resource.',
  },
  {
    control: 'CT.CLOUDWATCH.PR.1',
    rule: 'cloudwatch_alarm_action_check',
    resources: "each function's canary rollback alarms (fast errors, p99 duration), beside it in its area's stack",
    appliesTo: (r) => rollbackAlarmOf(r) !== undefined,
    reason: (r) =>
      `${rollbackAlarmOf(r)!.spec.id}: the alarm's action is the rollback: its CodeDeploy deployment group watches it and moves the live alias back. ` +
      "It notifies no one itself because the alarm topic lives in the monitoring stack, which reads the function's stack (an action would close " +
      "a cycle); the monitoring stack's errors and duration alarms on the same function do notify.",
  },
  {
    control: 'CT.CLOUDFRONT.PR.5',
    rule: 'cloudfront_access_logs_enabled_check',
    resources: "the edge's CloudFront distribution",
    appliesTo: (r) => isEdgeDistribution(r),
    reason: () =>
      'False positive: the distribution logs through CloudFront standard logging v2 (a CloudWatch Logs delivery in the EdgeLogs stack, ' +
      'chosen fields only, no query strings or cookies); the rule looks only at the legacy Logging property, which cannot drop the query string.',
  },
  {
    control: 'CT.CLOUDFRONT.PR.1',
    rule: 'cloudfront_default_root_object_configured_check',
    resources: "the edge's CloudFront distribution",
    appliesTo: (r) => isEdgeDistribution(r),
    reason: () =>
      'An API, not a website: /api/* goes to the HTTP API and every other path, / included, is the WebSocket endpoint (wss://<domain>/?ticket=...); ' +
      'a default root object would rewrite the socket path to a file name.',
  },
  {
    control: 'CT.CLOUDFRONT.PR.4',
    rule: 'cloudfront_origin_failover_enabled_check',
    resources: "the edge's CloudFront distribution",
    appliesTo: (r) => isEdgeDistribution(r),
    reason: () =>
      "One region's APIs and tables are the only origins: a failover origin would be a second regional deployment with replicated tables, " +
      'which NexChat does not have; CloudFront origin groups also fail over GET/HEAD only, never a WebSocket upgrade or a POST.',
  },
  {
    control: 'CT.S3.PR.10',
    rule: 's3_bucket_default_encryption_kms_check',
    resources: 'the attachments bucket and its server access log bucket (lib/constructs/attachments-bucket.ts)',
    appliesTo: (r) => bucketOf(r) !== undefined,
    reason: (r) =>
      bucketOf(r) === 'blobs'
        ? 'Encrypted with S3 managed keys (SSE-S3) on purpose: every blob is already encrypted by the clients, whose keys the server never holds; ' +
          "with SSE-KMS every presigned GET and PUT would need the signing function's kms:Decrypt/GenerateDataKey and cost a KMS request, for no secret the server could keep."
        : 'S3 server access logs can only be delivered to a bucket encrypted with S3 managed keys (SSE-S3); SSE-KMS would stop delivery.',
  },
  {
    control: 'CT.S3.PR.11',
    rule: 's3_bucket_versioning_enabled_check',
    resources: 'the attachments bucket (its log bucket is versioned)',
    appliesTo: (r) => bucketOf(r) === 'blobs',
    reason: () =>
      'Unversioned on purpose: NexChat promises that a deleted attachment is gone (never-shared uploads, deleted accounts, expiry after the message retention), ' +
      'and a versioned bucket keeps every deleted blob as a noncurrent version. Keys are write-once (<owner>/<random attachment id>), so versioning would protect nothing meant to stay.',
  },
  {
    control: 'CT.S3.PR.2',
    rule: 's3_bucket_logging_enabled_check',
    resources: "the attachments bucket's server access log bucket",
    appliesTo: (r) => bucketOf(r) === 'logs',
    reason: () => 'This is the server access log bucket itself: logging its access would log the log deliveries, a loop with nothing to learn.',
  },
  {
    control: 'CT.S3.PR.4',
    rule: 's3_event_notifications_enabled_check',
    resources: 'the attachments bucket and its server access log bucket',
    appliesTo: (r) => bucketOf(r) !== undefined,
    reason: (r) =>
      bucketOf(r) === 'blobs'
        ? 'Nothing reacts to object events: an upload counts once the client completes it (the route checks the object with a HEAD), and deletions come from the sweeper and lifecycle; notifications would go nowhere.'
        : 'Nothing reacts to new access logs: they are read when investigating; notifications would go nowhere.',
  },
  {
    control: 'CT.S3.PR.9',
    rule: 's3_bucket_object_lock_enabled_check',
    resources: 'the attachments bucket and its server access log bucket',
    appliesTo: (r) => bucketOf(r) !== undefined,
    reason: (r) =>
      bucketOf(r) === 'blobs'
        ? 'Object Lock would forbid the deletions the product promises (never-shared uploads, deleted accounts, expiry after the message retention).'
        : `No compliance regime asks NexChat for write-once logs; the bucket is versioned (a deleted log stays recoverable ${DELETED_LOG_RECOVERY_DAYS} days) ` +
          "and no function has any right on it: only the account's administrators can delete there.",
  },
  {
    control: 'CT.SQS.PR.1',
    rule: 'sqs_dlq_check',
    resources: "the stack's dead-letter queues",
    appliesTo: (r) => queueOf(r, 'deadLetters') !== undefined,
    reason: (r) =>
      `The dead-letter queue of the ${queueOf(r, 'deadLetters')} queue: the end of the line (kept 14 days, alarmed), with no dead-letter queue of its own. ` +
      "The rule's alternative, a RedriveAllowPolicy naming the source queue, is a circular reference unless one queue gets a physical name, " +
      'and a named queue cannot be replaced by an update.',
  },
];

/** Applies the table: every CloudFormation resource under `scope` gets the acknowledgements of the rows that match it. */
export function acknowledgePolicyFindings(scope: IConstruct): void {
  Aspects.of(scope).add(new AcknowledgePolicyFindings());
}

class AcknowledgePolicyFindings implements IAspect {
  visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node)) return;
    for (const row of policyAcknowledgements) {
      if (row.appliesTo(node)) Validations.of(node).acknowledge({ id: acknowledgementId(row.rule), reason: row.reason(node) });
    }
  }
}

// ---- the predicates: each ties a resource to the construct that made it, never to a type alone -----

function nexChatStackOf(r: IConstruct): NexChatStack | undefined {
  const stack = Stack.of(r);
  return stack instanceof NexChatStack ? stack : undefined;
}

const sameValue = (stack: Stack, a: unknown, b: unknown) => JSON.stringify(stack.resolve(a)) === JSON.stringify(stack.resolve(b));

/** The manifest route a gateway route resource serves, when that route has no gateway authorizer. */
function unauthorizedManifestRoute(r: CfnResource): Route | undefined {
  const stack = nexChatStackOf(r);
  if (!stack || !(r instanceof CfnRoute)) return undefined;
  const route = stack.routes.find((m) =>
    m.kind === 'http'
      ? r.routeKey === httpRouteKey(m) && sameValue(stack, r.apiId, stack.httpApi.apiId)
      : r.routeKey === m.routeKey && sameValue(stack, r.apiId, stack.webSocketApi.apiId),
  );
  return route && !(route.kind === 'ws' && route.authorizer) ? route : undefined;
}

/** "HTTP" or "WebSocket" when `r` lets API Gateway invoke a function only from that API of this stack. */
function ownApiOfPermission(r: CfnResource): 'HTTP' | 'WebSocket' | undefined {
  const stack = nexChatStackOf(r);
  if (!stack || !(r instanceof CfnPermission)) return undefined;
  if (r.principal !== 'apigateway.amazonaws.com') return undefined;
  const arn = stack.resolve(r.sourceArn) as { 'Fn::Join'?: [string, unknown[]] } | undefined;
  const parts = arn?.['Fn::Join']?.[0] === '' ? arn['Fn::Join'][1] : undefined;
  if (!parts || !parts.some((p) => typeof p === 'string' && p.includes(':execute-api:'))) return undefined;
  const refs = (api: IConstruct) => parts.some((p) => sameValue(stack, p, { Ref: stack.getLogicalId(api.node.defaultChild as CfnResource) }));
  if (refs(stack.httpApi)) return 'HTTP';
  if (refs(stack.webSocketApi)) return 'WebSocket';
  return undefined;
}

/** The RouteFunction whose Lambda `r` is. */
/** The function whose canary rollback alarm `r` is (RouteFunction.rollbackAlarms, with its deployment group). */
function rollbackAlarmOf(r: CfnResource): RouteFunction | undefined {
  if (!(r instanceof CfnAlarm)) return undefined;
  const alarm = r.node.scope;
  const owner = alarm?.node.scope;
  return owner instanceof RouteFunction && owner.deploymentGroup && ['ErrorsAlarm', 'DurationAlarm'].includes(alarm!.node.id) ? owner : undefined;
}

function routeFunctionOf(r: CfnResource): RouteFunction | undefined {
  if (!(r instanceof CfnFunction)) return undefined;
  const owner = r.node.scope?.node.scope;
  return owner instanceof RouteFunction && owner.function.node.defaultChild === r ? owner : undefined;
}

/** The queue id when `r` is that queue's dead-letter queue or alarm. */
function queueOf(r: CfnResource, part: 'deadLetters' | 'alarm'): string | undefined {
  const stack = nexChatStackOf(r);
  if (!stack || !(part === 'deadLetters' ? r instanceof CfnQueue : r instanceof CfnAlarm)) return undefined;
  return Object.entries(stack.queues).find(([, q]) => q[part].node.defaultChild === r)?.[0];
}

/** Which bucket of the attachments construct `r` is: the blobs or their access logs. */
function bucketOf(r: CfnResource): 'blobs' | 'logs' | undefined {
  const stack = nexChatStackOf(r);
  if (!stack?.attachments) return undefined;
  if (stack.attachments.bucket.node.defaultChild === r) return 'blobs';
  if (stack.attachments.logBucket.node.defaultChild === r) return 'logs';
  return undefined;
}

/** The CloudFront distribution of the edge (lib/constructs/edge.ts), when the stack has one. */
function isEdgeDistribution(r: CfnResource): boolean {
  const stack = Stack.of(r);
  return stack instanceof NexChatStack && stack.edge !== undefined && stack.edge.distribution.node.defaultChild === r;
}
