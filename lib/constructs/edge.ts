// Optional protection at the edge (context "edgeDomain" and friends): a CloudFront distribution on
// a custom domain in front of both APIs, with a WAF web ACL (per-IP rate rules on the auth routes and
// the WebSocket connect, AWS managed IP-reputation, known-bad-input and common rule groups), the
// Lambdas' security headers on every response, and the default execute-api endpoints switched off.
// HTTP and WebSocket APIs cannot take a web ACL themselves, and their gateway throttles are shared by
// all clients: without this, one script can use up login (or connect) for everyone.
//
// Where things live: the web ACL must be in us-east-1 (scope CLOUDFRONT), so it has a small stack of
// its own there (EdgeFirewallStack), and so must CloudFront's access log delivery (EdgeLogsStack, after
// the distribution); everything else is in the API stack, whatever its region (a distribution is
// global). The stacks read each other's ARNs with Fn::GetStackOutput (cdk.json's weak cross-stack
// references): no custom resources, no second deploy with an ARN pasted into context. The
// origin-verify secret stays in one stack with both of its readers (CloudFront, which sends it, and
// the Lambdas, which check it).
import { ArnFormat, CfnOutput, Duration, Fn, SecretValue, Stack, Token, Validations, type StackProps } from 'aws-cdk-lib';
import {
  ApiMapping,
  DomainName,
  EndpointType,
  SecurityPolicy,
  type CfnApi,
  type HttpApi,
  type HttpStage,
  type WebSocketApi,
  type WebSocketStage,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestCookieBehavior,
  OriginRequestHeaderBehavior,
  OriginRequestPolicy,
  OriginRequestQueryStringBehavior,
  OriginSslPolicy,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { CfnDelivery, CfnDeliveryDestination, CfnDeliverySource, LogGroup } from 'aws-cdk-lib/aws-logs';
import { ARecord, HostedZone, RecordTarget, type IHostedZone } from 'aws-cdk-lib/aws-route53';
import { ApiGatewayv2DomainProperties, CloudFrontTarget } from 'aws-cdk-lib/aws-route53-targets';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { CfnLoggingConfiguration, CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import { createLogKey } from './log-key.ts';
import { Construct, type Node } from 'constructs';
import { routes as manifest, type HttpRoute, type Route, type WsRoute } from '../routes.ts';
import { LOG_RETENTION, logRemovalPolicy, PROD_STAGE, WS_CALLBACK_URL_ENV, type RouteFunction } from './route-function.ts';

/** CloudFront's certificates and WAF's CLOUDFRONT-scope web ACLs live here, whatever the stack's region. */
export const EDGE_REGION = 'us-east-1';
/** The header CloudFront adds to every origin request; functions/middleware/edge.ts checks it. */
export const ORIGIN_VERIFY_HEADER = 'x-origin-verify';
/** The functions' copy of the secret (read by functions/core/config.ts). */
export const EDGE_ORIGIN_SECRET_ENV = 'EDGE_ORIGIN_SECRET';
/** Every HTTP route lives under this prefix: the distribution sends it to the HTTP API, the rest to the WebSocket API. */
export const HTTP_PATH_PREFIX = '/api/';
/** The auth routes (per-IP rule over all of them). */
export const AUTH_PATH_PREFIX = '/api/auth/';
/**
 * The routes that check a password or a code, or send one: where guessing and flooding happen, and
 * whose gateway throttles are the tightest (a per-IP rule of their own, lower than the auth-wide one).
 */
export const CREDENTIAL_ROUTES: readonly HttpRoute[] = [manifest.login, manifest.register, manifest.requestOtp, manifest.resetPassword];

/**
 * The security headers every Lambda response carries (functions/middleware/http-handler.ts:
 * @middy/http-security-headers plus the API extras), so that answers API Gateway, WAF or CloudFront
 * make themselves carry them too. tests/infra/edge.test.ts compares this list with what the
 * middleware really sends.
 */
export const EDGE_SECURITY_HEADERS = {
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains; preload',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Cache-Control': 'no-store',
  'Origin-Agent-Cluster': '?1',
  'X-DNS-Prefetch-Control': 'off',
  'X-Download-Options': 'noopen',
  'X-Permitted-Cross-Domain-Policies': 'none',
} as const;

/** The AWS managed rule groups, in evaluation order after the rate rules. */
export const MANAGED_RULE_GROUPS = ['AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesKnownBadInputsRuleSet', 'AWSManagedRulesCommonRuleSet'] as const;
/**
 * Common rule set rules that only count: SizeRestrictions_BODY blocks bodies over 8 KB, and a
 * message's ciphertext alone may be 120,000 base64 characters (contract/conversations/schemas.ts);
 * the body limit is the functions' MAX_BODY_BYTES (413), which WAF could not enforce anyway (it
 * inspects at most 64 KB of a body at the edge).
 */
export const ALWAYS_COUNTED_RULES = ['SizeRestrictions_BODY'] as const;

export const RATE_WINDOWS = [60, 120, 300, 600] as const;
export type RateWindow = (typeof RATE_WINDOWS)[number];

export interface EdgeRateLimits {
  /** Requests per window per client IP to the credential routes (login, register, OTP request, password reset). */
  readonly credentials: number;
  /** Requests per window per client IP to any /api/auth/ route (refresh, logout, password change too). */
  readonly auth: number;
  /** WebSocket connection attempts per window per client IP (everything outside /api/). */
  readonly connect: number;
  /** The window WAF counts over, in seconds. */
  readonly windowSeconds: RateWindow;
}

export interface EdgeSettings {
  /** Public host name served by CloudFront (https and wss), e.g. chat.example.com. */
  readonly domain: string;
  /** ACM certificate in us-east-1 covering `domain` (CloudFront's). */
  readonly certificateArn: string;
  /** ACM certificate in the stack's region covering both origin host names (API Gateway's). */
  readonly originCertificateArn: string;
  /** API Gateway custom domain of the HTTP API, CloudFront's origin for /api/*. */
  readonly httpOrigin: string;
  /** API Gateway custom domain of the WebSocket API, CloudFront's origin for everything else. */
  readonly wsOrigin: string;
  /** Route 53 hosted zone to write the alias records in; without it, outputs name the records to create. */
  readonly hostedZone?: { readonly id: string; readonly name: string };
  readonly rateLimits: EdgeRateLimits;
  /** Common rule set rules to count instead of block, on top of ALWAYS_COUNTED_RULES. */
  readonly countRules: readonly string[];
  /** Secrets Manager version id of the origin-verify secret to pin (rotation); default the current version. */
  readonly originSecretVersion?: string;
}

// ---- context --------------------------------------------------------------------------------------------

const HOSTNAME = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const ACM_ARN = /^arn:aws[a-z-]*:acm:([a-z]{2}(?:-[a-z]+)+-\d+):\d{12}:certificate\/[0-9a-f-]{36}$/;
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
const RULE_NAME = /^[A-Za-z0-9_-]{1,128}$/;
const SECRET_VERSION = /^[A-Za-z0-9-]{32,64}$/;
/** WAF's bounds for a rate-based rule's limit. */
const RATE_LIMIT_MIN = 10;
const RATE_LIMIT_MAX = 2_000_000_000;

/** Context key -> what it takes (for error messages). Any other key starting with "edge" is a typo and fails synth. */
export const EDGE_CONTEXT_KEYS = {
  edgeDomain: 'the public host name, e.g. chat.example.com (setting it turns the edge on)',
  edgeCertificateArn: `an ACM certificate ARN in ${EDGE_REGION} covering edgeDomain`,
  edgeOriginCertificateArn: "an ACM certificate ARN in the stack's region covering both origin host names",
  edgeHttpOrigin: 'a host name for the HTTP API origin (default api-origin.<edgeDomain>)',
  edgeWsOrigin: 'a host name for the WebSocket API origin (default ws-origin.<edgeDomain>)',
  edgeHostedZoneId: 'a Route 53 hosted zone id, e.g. Z0123456789ABCDEFGHIJ',
  edgeHostedZoneName: 'the hosted zone name, e.g. example.com',
  edgeCredentialRateLimit: `an integer from ${RATE_LIMIT_MIN} to ${RATE_LIMIT_MAX} (default 100)`,
  edgeAuthRateLimit: `an integer from ${RATE_LIMIT_MIN} to ${RATE_LIMIT_MAX} (default 1000)`,
  edgeConnectRateLimit: `an integer from ${RATE_LIMIT_MIN} to ${RATE_LIMIT_MAX} (default 300)`,
  edgeRateWindowSeconds: `one of ${RATE_WINDOWS.join(', ')} (default 300)`,
  edgeCountRules: 'comma-separated AWSManagedRulesCommonRuleSet rule names, e.g. NoUserAgent_HEADER',
  edgeOriginSecretVersion: 'a Secrets Manager version id of the origin-verify secret',
} as const;
type EdgeContextKey = keyof typeof EDGE_CONTEXT_KEYS;

export const DEFAULT_RATE_LIMITS: EdgeRateLimits = { credentials: 100, auth: 1000, connect: 300, windowSeconds: 300 };

/**
 * Context -> edge settings, or undefined when "edgeDomain" is not set (the stack then stays exactly as
 * it was). Throws, naming the key, on anything CloudFront, ACM, Route 53 or WAF would refuse at deploy
 * time, on an unknown edge* key (a typo), and when the stack's region is not pinned (context "region":
 * the web ACL's ARN crosses regions, which needs both regions known at synth).
 */
export function readEdgeSettings(node: Node): EdgeSettings | undefined {
  const all = node.getAllContext() as Record<string, unknown>;
  for (const key of Object.keys(all)) {
    if (/^edge/i.test(key) && !(key in EDGE_CONTEXT_KEYS)) {
      throw new Error(`context "${key}" is not an edge setting; the edge takes ${Object.keys(EDGE_CONTEXT_KEYS).join(', ')}`);
    }
  }
  const given = (Object.keys(EDGE_CONTEXT_KEYS) as EdgeContextKey[]).filter((k) => all[k] !== undefined);
  const domain = readString(node, 'edgeDomain', HOSTNAME);
  if (!domain) {
    if (given.length) throw new Error(`context "${given[0]}" is set but "edgeDomain" is not: the edge is turned on by edgeDomain`);
    return undefined;
  }
  const region = node.tryGetContext('region');
  if (typeof region !== 'string') {
    throw new Error(
      `context "edgeDomain" needs the stack's region pinned with context "region" (e.g. -c region=eu-west-1): the web ACL lives in ${EDGE_REGION} and the API stack reads its ARN across regions`,
    );
  }
  const certificateArn = required(node, 'edgeCertificateArn', readString(node, 'edgeCertificateArn', ACM_ARN));
  if (acmRegion(certificateArn) !== EDGE_REGION) {
    throw new Error(
      `context "edgeCertificateArn" must be a certificate in ${EDGE_REGION} (CloudFront uses no other region); got one in ${acmRegion(certificateArn)}`,
    );
  }
  const originCertificateArn =
    readString(node, 'edgeOriginCertificateArn', ACM_ARN) ??
    (region === EDGE_REGION
      ? certificateArn
      : required(node, 'edgeOriginCertificateArn', undefined, `the stack is in ${region}, and API Gateway's regional custom domains need a certificate there`));
  if (acmRegion(originCertificateArn) !== region) {
    throw new Error(
      `context "edgeOriginCertificateArn" must be a certificate in the stack's region ${region} (API Gateway regional custom domains); got one in ${acmRegion(originCertificateArn)}`,
    );
  }
  const httpOrigin = readString(node, 'edgeHttpOrigin', HOSTNAME) ?? `api-origin.${domain}`;
  const wsOrigin = readString(node, 'edgeWsOrigin', HOSTNAME) ?? `ws-origin.${domain}`;
  if (new Set([domain, httpOrigin, wsOrigin]).size !== 3) {
    throw new Error(
      `context "edgeDomain", "edgeHttpOrigin" and "edgeWsOrigin" must be three different host names (one API Gateway custom domain serves one API type); got ${domain}, ${httpOrigin}, ${wsOrigin}`,
    );
  }
  const zoneId = readString(node, 'edgeHostedZoneId', HOSTED_ZONE_ID);
  const zoneName = readString(node, 'edgeHostedZoneName', HOSTNAME);
  if (Boolean(zoneId) !== Boolean(zoneName)) {
    throw new Error(`context "${zoneId ? 'edgeHostedZoneName' : 'edgeHostedZoneId'}" is needed too: the hosted zone is given by its id and its name`);
  }
  if (zoneName) {
    for (const [key, name] of [
      ['edgeDomain', domain],
      ['edgeHttpOrigin', httpOrigin],
      ['edgeWsOrigin', wsOrigin],
    ] as const) {
      if (name !== zoneName && !name.endsWith(`.${zoneName}`))
        throw new Error(`context "${key}" (${name}) is not in the hosted zone "edgeHostedZoneName" (${zoneName})`);
    }
  }
  const rateLimits: EdgeRateLimits = {
    credentials: readRateLimit(node, 'edgeCredentialRateLimit') ?? DEFAULT_RATE_LIMITS.credentials,
    auth: readRateLimit(node, 'edgeAuthRateLimit') ?? DEFAULT_RATE_LIMITS.auth,
    connect: readRateLimit(node, 'edgeConnectRateLimit') ?? DEFAULT_RATE_LIMITS.connect,
    windowSeconds: readWindow(node) ?? DEFAULT_RATE_LIMITS.windowSeconds,
  };
  const countRules = readList(node, 'edgeCountRules', RULE_NAME);
  const originSecretVersion = readString(node, 'edgeOriginSecretVersion', SECRET_VERSION);
  return {
    domain,
    certificateArn,
    originCertificateArn,
    httpOrigin,
    wsOrigin,
    ...(zoneId && zoneName ? { hostedZone: { id: zoneId, name: zoneName } } : {}),
    rateLimits,
    countRules,
    ...(originSecretVersion ? { originSecretVersion } : {}),
  };
}

function fail(key: EdgeContextKey, value: unknown): Error {
  return new Error(`context "${key}" must be ${EDGE_CONTEXT_KEYS[key]}; got ${JSON.stringify(value)}`);
}

function readString(node: Node, key: EdgeContextKey, pattern: RegExp): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !pattern.test(value)) throw fail(key, value);
  return value;
}

function required(node: Node, key: EdgeContextKey, value: string | undefined, why = 'the edge needs it'): string {
  if (value === undefined) throw new Error(`context "${key}" is required with "edgeDomain" (${why}): ${EDGE_CONTEXT_KEYS[key]}`);
  return value;
}

function acmRegion(arn: string): string {
  return ACM_ARN.exec(arn)![1]!;
}

/** An integer, from cdk.json (a number) or -c (a string). */
function readInteger(node: Node, key: EdgeContextKey): number | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw fail(key, value);
  return n;
}

function readRateLimit(node: Node, key: EdgeContextKey): number | undefined {
  const n = readInteger(node, key);
  if (n !== undefined && (n < RATE_LIMIT_MIN || n > RATE_LIMIT_MAX)) throw fail(key, node.tryGetContext(key));
  return n;
}

function readWindow(node: Node): RateWindow | undefined {
  const n = readInteger(node, 'edgeRateWindowSeconds');
  if (n !== undefined && !(RATE_WINDOWS as readonly number[]).includes(n)) throw fail('edgeRateWindowSeconds', node.tryGetContext('edgeRateWindowSeconds'));
  return n as RateWindow | undefined;
}

function readList(node: Node, key: EdgeContextKey, pattern: RegExp): string[] {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined) return [];
  if (typeof value !== 'string') throw fail(key, value);
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!items.length || !items.every((i) => pattern.test(i))) throw fail(key, value);
  return [...new Set(items)];
}

// ---- the web ACL (us-east-1) ------------------------------------------------------------------------------

export interface EdgeFirewallStackProps extends StackProps {
  readonly stage: string;
  /** Names the WAF log group (aws-waf-logs-<apiStackName>), so two stages keep theirs apart. */
  readonly apiStackName: string;
  readonly rateLimits: EdgeRateLimits;
  readonly countRules: readonly string[];
}

/** Path matching for WAF: decode, normalise (//, ./, ../) and lower-case first, so /api//AUTH/%6Cogin is /api/auth/login. */
const PATH_TRANSFORMS = [
  { priority: 0, type: 'URL_DECODE' },
  { priority: 1, type: 'NORMALIZE_PATH' },
  { priority: 2, type: 'LOWERCASE' },
];

function pathStartsWith(prefix: string): CfnWebACL.StatementProperty {
  return {
    byteMatchStatement: {
      fieldToMatch: { uriPath: {} },
      positionalConstraint: 'STARTS_WITH',
      searchString: prefix.toLowerCase(),
      textTransformations: PATH_TRANSFORMS,
    },
  };
}

const RATE_LIMITED_BODY = 'rate_limited';

/**
 * The web ACL CloudFront runs, in us-east-1 (CLOUDFRONT scope lives nowhere else), with its logs. It
 * holds nothing else, so the API stack keeps its own region and the secrets stay with their readers.
 */
export class EdgeFirewallStack extends Stack {
  readonly webAcl: CfnWebACL;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: EdgeFirewallStackProps) {
    super(scope, id, props);
    const { rateLimits } = props;
    const visibility = (metricName: string): CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    // A rate block answers like the functions' own 429: the JSON error shape, Retry-After, and the
    // security headers (a WAF response is made at the edge, not by a Lambda).
    const rateBlock: CfnWebACL.RuleActionProperty = {
      block: {
        customResponse: {
          responseCode: 429,
          customResponseBodyKey: RATE_LIMITED_BODY,
          responseHeaders: [
            { name: 'Retry-After', value: String(rateLimits.windowSeconds) },
            ...Object.entries(EDGE_SECURITY_HEADERS).map(([name, value]) => ({ name, value })),
          ],
        },
      },
    };
    const rateRule = (name: string, priority: number, limit: number, scopeDown: CfnWebACL.StatementProperty): CfnWebACL.RuleProperty => ({
      name,
      priority,
      action: rateBlock,
      statement: {
        rateBasedStatement: { aggregateKeyType: 'IP', limit, evaluationWindowSec: rateLimits.windowSeconds, scopeDownStatement: scopeDown },
      },
      visibilityConfig: visibility(name),
    });
    const managed = (name: (typeof MANAGED_RULE_GROUPS)[number], priority: number, countOnly: readonly string[] = []): CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name,
          ...(countOnly.length ? { ruleActionOverrides: countOnly.map((rule) => ({ name: rule, actionToUse: { count: {} } })) } : {}),
        },
      },
      visibilityConfig: visibility(name),
    });

    const credentialPaths = [...new Set(CREDENTIAL_ROUTES.map((r) => r.path))];
    const credentialScope: CfnWebACL.StatementProperty =
      credentialPaths.length === 1 ? pathStartsWith(credentialPaths[0]!) : { orStatement: { statements: credentialPaths.map(pathStartsWith) } };

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'CLOUDFRONT',
      description: `NexChat ${props.stage}: per-IP limits on sign-in and connect, AWS managed IP reputation, bad inputs and common rules`,
      defaultAction: { allow: {} },
      visibilityConfig: visibility('NexChatEdge'),
      customResponseBodies: {
        [RATE_LIMITED_BODY]: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify({
            error: {
              code: 'rate_limited',
              message: `Too many requests from this address; retry in ${rateLimits.windowSeconds} s`,
              details: { limited: 'requests from this address', retryAfterSeconds: rateLimits.windowSeconds },
            },
          }),
        },
      },
      rules: [
        // Known-bad addresses first: they never count toward anyone's rate.
        managed('AWSManagedRulesAmazonIpReputationList', 0),
        rateRule('CredentialsPerIp', 1, rateLimits.credentials, credentialScope),
        rateRule('AuthPerIp', 2, rateLimits.auth, pathStartsWith(AUTH_PATH_PREFIX)),
        rateRule('ConnectPerIp', 3, rateLimits.connect, { notStatement: { statement: pathStartsWith(HTTP_PATH_PREFIX) } }),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 4),
        managed('AWSManagedRulesCommonRuleSet', 5, [...new Set([...ALWAYS_COUNTED_RULES, ...props.countRules])]),
      ],
    });

    // WAF logs only what it blocked or counted (the allowed traffic is in CloudFront's logs), without
    // the credentials a request may carry: Authorization, cookies and the query string (the
    // WebSocket ticket is a query parameter).
    const logGroupName = `aws-waf-logs-${props.apiStackName}`;
    this.logGroup = new LogGroup(this, 'WafLogs', {
      logGroupName,
      retention: LOG_RETENTION,
      removalPolicy: logRemovalPolicy(props.stage),
      // like every log group of ours: this stack's own logs key (Control Tower CT.CLOUDWATCH.PR.3)
      encryptionKey: createLogKey(this, 'LogKey', props.stage),
    });
    const logGroupArn = this.formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const keep = (action: string) => ({ Behavior: 'KEEP', Requirement: 'MEETS_ANY', Conditions: [{ ActionCondition: { Action: action } }] });
    new CfnLoggingConfiguration(this, 'WafLogging', {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [logGroupArn],
      redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'cookie' } }, { queryString: {} }],
      loggingFilter: { DefaultBehavior: 'DROP', Filters: [keep('BLOCK'), keep('COUNT'), keep('EXCLUDED_AS_COUNT')] },
    }).node.addDependency(this.logGroup);
  }
}

// ---- the access logs (us-east-1) -----------------------------------------------------------------------------

/**
 * What CloudFront's access logs keep: when, where, who (address, port, User-Agent), what (method, path,
 * status, sizes, timings, edge result, TLS). Not the query string (people search terms, the WebSocket
 * ticket), cookies (the refresh token), Referer or X-Forwarded-For: the same line the API's own access
 * logs draw.
 */
export const ACCESS_LOG_FIELDS = [
  'date',
  'time',
  'x-edge-location',
  'x-edge-request-id',
  'c-ip',
  'c-port',
  'cs-method',
  'cs-protocol',
  'cs-protocol-version',
  'x-host-header',
  'cs-uri-stem',
  'cs(User-Agent)',
  'sc-status',
  'sc-content-type',
  'sc-bytes',
  'cs-bytes',
  'time-taken',
  'time-to-first-byte',
  'x-edge-result-type',
  'x-edge-response-result-type',
  'x-edge-detailed-result-type',
  'ssl-protocol',
  'ssl-cipher',
] as const;

export interface EdgeLogsStackProps extends StackProps {
  readonly stage: string;
  readonly apiStackName: string;
  /** The API stack's access log prefix (/aws/vendedlogs/...: no growth of the region's Logs resource policy). */
  readonly logGroupPrefix: string;
  readonly distributionArn: string;
}

/**
 * CloudFront standard logging v2 into CloudWatch Logs, in us-east-1 (where CloudFront's log delivery
 * source must be). A stack of its own because it needs the distribution, which needs the web ACL:
 * firewall, then API, then logs.
 */
export class EdgeLogsStack extends Stack {
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: EdgeLogsStackProps) {
    super(scope, id, props);
    this.logGroup = new LogGroup(this, 'AccessLogs', {
      logGroupName: `${props.logGroupPrefix}/${props.apiStackName}/cloudfront-access`,
      retention: LOG_RETENTION,
      removalPolicy: logRemovalPolicy(props.stage),
      encryptionKey: createLogKey(this, 'LogKey', props.stage),
    });
    const source = new CfnDeliverySource(this, 'Source', {
      name: `${props.apiStackName}-cloudfront`,
      logType: 'ACCESS_LOGS',
      resourceArn: props.distributionArn,
    });
    const destination = new CfnDeliveryDestination(this, 'Destination', {
      name: `${props.apiStackName}-cloudfront`,
      destinationResourceArn: this.logGroup.logGroupArn,
      outputFormat: 'json',
    });
    const delivery = new CfnDelivery(this, 'Delivery', {
      deliverySourceName: source.name,
      deliveryDestinationArn: destination.attrArn,
      recordFields: [...ACCESS_LOG_FIELDS],
    });
    delivery.node.addDependency(source);
  }
}

// ---- the distribution and the origins (in the API stack) --------------------------------------------------

export interface EdgeProps {
  readonly settings: EdgeSettings;
  readonly stage: string;
  readonly httpApi: HttpApi;
  readonly httpStage: HttpStage;
  readonly webSocketApi: WebSocketApi;
  readonly webSocketStage: WebSocketStage;
  readonly routes: readonly Route[];
  /** Where the stack's access log groups are named (the CloudFront one joins them, in us-east-1). */
  readonly accessLogPrefix: string;
  /** The stack's functions by id: HTTP routes and $connect authorizers get the origin secret; @connections users the new callback URL. */
  readonly functions: Readonly<Record<string, RouteFunction>>;
}

export class Edge extends Construct {
  readonly firewall: EdgeFirewallStack;
  readonly distribution: Distribution;
  readonly httpDomain: DomainName;
  readonly wsDomain: DomainName;
  readonly originSecret: Secret;
  readonly logs: EdgeLogsStack;
  readonly responseHeaders: ResponseHeadersPolicy;
  readonly wsRequestPolicy: OriginRequestPolicy;
  /** What clients use: https://<domain> (HTTP routes under /api/) and wss://<domain> (the socket). */
  readonly urls: { readonly http: string; readonly ws: string };

  constructor(scope: Construct, id: string, props: EdgeProps) {
    super(scope, id);
    const { settings } = props;
    const stack = Stack.of(this);
    checkEdgeRoutes(props.routes);
    if (Token.isUnresolved(stack.region)) throw new Error('the edge needs the stack region pinned (context "region")');

    // --- the web ACL, in its own us-east-1 stack ---
    const firewallEnv = { region: EDGE_REGION, ...(Token.isUnresolved(stack.account) ? {} : { account: stack.account }) };
    this.firewall = new EdgeFirewallStack(stack.node.scope as Construct, `${stack.node.id}-EdgeFirewall`, {
      stackName: `${stack.stackName}-EdgeFirewall`,
      env: firewallEnv,
      description: `NexChat ${props.stage}: the WAF web ACL in front of the edge distribution (${settings.domain})`,
      terminationProtection: props.stage === PROD_STAGE,
      stage: props.stage,
      apiStackName: stack.stackName,
      rateLimits: settings.rateLimits,
      countRules: settings.countRules,
    });

    // --- origins: API Gateway regional custom domains, the only way in once execute-api is off ---
    const originCertificate = Certificate.fromCertificateArn(this, 'OriginCertificate', settings.originCertificateArn);
    const domain = (id: string, name: string) =>
      new DomainName(this, id, {
        domainName: name,
        certificate: originCertificate,
        endpointType: EndpointType.REGIONAL,
        securityPolicy: SecurityPolicy.TLS_1_2,
      });
    this.httpDomain = domain('HttpOriginDomain', settings.httpOrigin);
    this.wsDomain = domain('WsOriginDomain', settings.wsOrigin);
    new ApiMapping(this, 'HttpOriginMapping', { api: props.httpApi, domainName: this.httpDomain, stage: props.httpStage });
    new ApiMapping(this, 'WsOriginMapping', { api: props.webSocketApi, domainName: this.wsDomain, stage: props.webSocketStage });
    for (const api of [props.httpApi, props.webSocketApi]) (api.node.defaultChild as CfnApi).disableExecuteApiEndpoint = true;

    // --- the origin-verify secret: CloudFront sends it, the functions check it ---
    this.originSecret = new Secret(this, 'OriginVerifySecret', {
      description: `NexChat ${props.stage}: the value CloudFront sends in ${ORIGIN_VERIFY_HEADER}, so the functions can tell edge traffic from requests that went around it`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });
    Validations.of(this.originSecret.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Both readers (the distribution and the functions) take the value at deploy time through a dynamic reference, so a rotation Lambda would leave them apart; rotation is a deploy pinning a new version (context edgeOriginSecretVersion, docs/architecture.md).',
    });
    const secretValue = SecretValue.secretsManager(this.originSecret.secretArn, {
      ...(settings.originSecretVersion ? { versionId: settings.originSecretVersion } : {}),
    }).unsafeUnwrap();
    const customHeaders = { [ORIGIN_VERIFY_HEADER]: secretValue };

    // --- what reaches the origins ---
    const wsRoute = props.routes.find((r): r is WsRoute => r.kind === 'ws' && r.routeKey === '$connect');
    this.wsRequestPolicy = new OriginRequestPolicy(this, 'WsRequestPolicy', {
      comment: `NexChat ${props.stage}: the WebSocket handshake, its ticket and the viewer's address; never Host`,
      headerBehavior: OriginRequestHeaderBehavior.allowList(
        'Sec-WebSocket-Key',
        'Sec-WebSocket-Version',
        'Sec-WebSocket-Protocol',
        'Sec-WebSocket-Extensions',
        'Origin',
        'User-Agent',
        'CloudFront-Viewer-Address',
      ),
      queryStringBehavior: wsRoute?.authorizer
        ? OriginRequestQueryStringBehavior.allowList(wsRoute.authorizer.queryParameter)
        : OriginRequestQueryStringBehavior.none(),
      cookieBehavior: OriginRequestCookieBehavior.none(),
    });

    // Fill-in, not override: a function's own headers win (they are the same set), and answers the
    // gateway makes itself (429 throttles, 403, 5xx) get them from here.
    this.responseHeaders = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: `NexChat ${props.stage}: the functions' security headers, on every answer`,
      securityHeadersBehavior: {
        strictTransportSecurity: { accessControlMaxAge: Duration.seconds(31536000), includeSubdomains: true, preload: true, override: false },
        contentTypeOptions: { override: false },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: false },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: false },
        contentSecurityPolicy: { contentSecurityPolicy: EDGE_SECURITY_HEADERS['Content-Security-Policy'], override: false },
      },
      customHeadersBehavior: {
        customHeaders: (
          ['Cache-Control', 'Origin-Agent-Cluster', 'X-DNS-Prefetch-Control', 'X-Download-Options', 'X-Permitted-Cross-Domain-Policies'] as const
        ).map((header) => ({
          header,
          value: EDGE_SECURITY_HEADERS[header],
          override: false,
        })),
      },
    });

    const origin = (name: string) =>
      new HttpOrigin(name, {
        protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
        originSslProtocols: [OriginSslPolicy.TLS_V1_2],
        customHeaders,
      });
    const common = {
      viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
      cachePolicy: CachePolicy.CACHING_DISABLED,
      responseHeadersPolicy: this.responseHeaders,
      compress: false,
    };
    this.distribution = new Distribution(this, 'Distribution', {
      comment: `NexChat ${props.stage}: ${settings.domain}`,
      domainNames: [settings.domain],
      certificate: Certificate.fromCertificateArn(this, 'EdgeCertificate', settings.certificateArn),
      minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021,
      httpVersion: HttpVersion.HTTP2_AND_3,
      // IPv4 only: per-IP limits (WAF's and the app's) count whole addresses, and one IPv6 subscriber
      // holds a /64 or more, billions of addresses to rotate through. The execute-api endpoints were
      // IPv4-only too, so no client loses anything.
      enableIpv6: false,
      webAclId: this.firewall.webAcl.attrArn,
      // The socket: wss://<domain>/?ticket=... (API Gateway WebSocket APIs answer on the mapping's root).
      defaultBehavior: {
        ...common,
        origin: origin(settings.wsOrigin),
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        originRequestPolicy: this.wsRequestPolicy,
      },
      additionalBehaviors: {
        // Every header but Host (the custom domain must see its own name), so Authorization, the
        // refresh cookie, CORS preflights and CloudFront-Viewer-Address; every query string.
        [`${HTTP_PATH_PREFIX}*`]: {
          ...common,
          origin: origin(settings.httpOrigin),
          allowedMethods: AllowedMethods.ALLOW_ALL,
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        },
      },
    });
    Validations.of(this.distribution.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-CFR3',
      reason:
        'Access logs go through CloudFront standard logging v2 (a CloudWatch Logs delivery in the EdgeLogs stack, us-east-1), which keeps the query string (search terms, the WebSocket ticket), cookies and Referer out; cdk-nag knows only the legacy Logging property, which logs them all.',
    });
    Validations.of(this.distribution.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'A chat service for anyone, anywhere: there is no country to refuse; abuse is handled per address (WAF) and per account (the app).',
    });

    // --- access logs: CloudFront's log delivery source lives in us-east-1, after the distribution ---
    this.logs = new EdgeLogsStack(stack.node.scope as Construct, `${stack.node.id}-EdgeLogs`, {
      stackName: `${stack.stackName}-EdgeLogs`,
      env: firewallEnv,
      description: `NexChat ${props.stage}: access logs of the edge distribution (${settings.domain})`,
      terminationProtection: props.stage === PROD_STAGE,
      stage: props.stage,
      apiStackName: stack.stackName,
      logGroupPrefix: props.accessLogPrefix,
      distributionArn: this.distribution.distributionArn,
    });

    // --- the functions: the secret to check, and @connections through the custom domain ---
    const checkers = new Set([
      ...props.routes.filter((r) => r.kind === 'http').map((r) => r.id),
      ...props.routes.flatMap((r) => (r.kind === 'ws' && r.authorizer ? [r.authorizer.id] : [])),
    ]);
    for (const [fid, fn] of Object.entries(props.functions)) {
      if (checkers.has(fid)) fn.function.addEnvironment(EDGE_ORIGIN_SECRET_ENV, secretValue);
      // With execute-api off, @connections answers on the WebSocket custom domain only (root mapping: no stage in the path).
      if (fn.spec.manageConnections) fn.function.addEnvironment(WS_CALLBACK_URL_ENV, `https://${settings.wsOrigin}`);
    }

    // --- DNS ---
    if (settings.hostedZone) {
      const zone: IHostedZone = HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId: settings.hostedZone.id, zoneName: settings.hostedZone.name });
      new ARecord(this, 'EdgeA', { zone, recordName: `${settings.domain}.`, target: RecordTarget.fromAlias(new CloudFrontTarget(this.distribution)) });
      for (const [rid, name, d] of [
        ['HttpOriginA', settings.httpOrigin, this.httpDomain],
        ['WsOriginA', settings.wsOrigin, this.wsDomain],
      ] as const) {
        new ARecord(this, rid, {
          zone,
          recordName: `${name}.`,
          target: RecordTarget.fromAlias(new ApiGatewayv2DomainProperties(d.regionalDomainName, d.regionalHostedZoneId)),
        });
      }
    }
    const dnsHint = settings.hostedZone ? 'created in the hosted zone' : 'create it (CNAME, or an alias record in Route 53)';
    new CfnOutput(stack, 'EdgeDnsPublic', {
      value: Fn.join(' -> ', [settings.domain, this.distribution.distributionDomainName]),
      description: `Public name -> CloudFront distribution: ${dnsHint}`,
    });
    new CfnOutput(stack, 'EdgeDnsHttpOrigin', {
      value: Fn.join(' -> ', [settings.httpOrigin, this.httpDomain.regionalDomainName]),
      description: `HTTP API origin -> API Gateway regional domain: ${dnsHint}`,
    });
    new CfnOutput(stack, 'EdgeDnsWsOrigin', {
      value: Fn.join(' -> ', [settings.wsOrigin, this.wsDomain.regionalDomainName]),
      description: `WebSocket API origin -> API Gateway regional domain: ${dnsHint}`,
    });
    this.urls = { http: `https://${settings.domain}`, ws: `wss://${settings.domain}` };
  }
}

/**
 * What the edge's path split relies on: every HTTP route under /api/ (the rest goes to the WebSocket
 * API), and a $connect with its authorizer (which checks the origin header before the ticket).
 */
export function checkEdgeRoutes(routes: readonly Route[]): void {
  for (const r of routes) {
    if (r.kind === 'http' && !r.path.startsWith(HTTP_PATH_PREFIX)) {
      throw new Error(
        `route ${r.id} (${r.path}): behind the edge every HTTP route must live under ${HTTP_PATH_PREFIX} (the rest of the domain is the WebSocket API)`,
      );
    }
    if (r.kind === 'ws' && r.routeKey === '$connect' && !r.authorizer) {
      throw new Error(`route ${r.id}: behind the edge $connect needs its authorizer, which refuses connections that did not come through CloudFront`);
    }
  }
}
