// The optional edge (lib/constructs/edge.ts): without its context the app is what it was (one stack,
// execute-api on, nothing of CloudFront, WAF or custom domains); with it, a CloudFront distribution on
// the custom domain in front of both APIs, the web ACL in its own us-east-1 stack (rate rules scoped
// to the auth routes the manifest has, the managed groups, the body-size rule counting), the Lambdas'
// security headers on every response, the default endpoints off, the functions told the origin secret
// and the custom @connections URL, and cdk-nag clean on every stack. Bad context fails synth naming
// the key.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  ACCESS_LOG_FIELDS,
  ALWAYS_COUNTED_RULES,
  AUTH_PATH_PREFIX,
  checkEdgeRoutes,
  CREDENTIAL_ROUTES,
  DEFAULT_RATE_LIMITS,
  EDGE_ORIGIN_SECRET_ENV,
  EDGE_REGION,
  EDGE_SECURITY_HEADERS,
  HTTP_PATH_PREFIX,
  MANAGED_RULE_GROUPS,
  ORIGIN_VERIFY_HEADER,
  readEdgeSettings,
} from '../../lib/constructs/edge.ts';
import { WS_CALLBACK_URL_ENV } from '../../lib/constructs/route-function.ts';
import { allRoutes, routes as manifest, type HttpRoute, type WsRoute } from '../../lib/routes.ts';
import { ORIGIN_VERIFY_HEADER as CHECKED_HEADER } from '../../functions/middleware/edge.ts';
import { stackHeaders } from '../../functions/middleware/http-handler.ts';
import { loadConfig } from '../../functions/core/config.ts';
import {
  acknowledgements,
  buildApp,
  isControlTowerAcknowledgement,
  ofType,
  rawNagFindings,
  res,
  synthesize,
  violationLines,
  type Json,
  type Synth,
  failedSynthReport,
} from '../support/cdk-app.ts';

const REGION = 'eu-west-1';
const EDGE_CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';
const ORIGIN_CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-666666666666';
const DOMAIN = 'chat.example.com';

/** The edge on, in eu-west-1, with a hosted zone and the limits left at their defaults. */
const edgeContext = {
  stage: 'edge',
  region: REGION,
  edgeDomain: DOMAIN,
  edgeCertificateArn: EDGE_CERT,
  edgeOriginCertificateArn: ORIGIN_CERT,
  edgeHostedZoneId: 'Z0123456789ABCDEFGHIJ',
  edgeHostedZoneName: 'example.com',
};
/** The edge on in us-east-1 without a zone: one certificate serves both, the limits tuned, origins renamed. */
const tunedContext = {
  stage: 'tuned',
  region: EDGE_REGION,
  edgeDomain: 'api.example.org',
  edgeCertificateArn: EDGE_CERT,
  edgeHttpOrigin: 'h7k2.origin.example.org',
  edgeWsOrigin: 'w9q4.origin.example.org',
  edgeCredentialRateLimit: '50',
  edgeAuthRateLimit: 600,
  edgeConnectRateLimit: '120',
  edgeRateWindowSeconds: '600',
  edgeCountRules: 'NoUserAgent_HEADER, SizeRestrictions_QUERYSTRING',
  edgeOriginSecretVersion: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
};

const EDGE_TYPES = [
  'AWS::CloudFront::Distribution',
  'AWS::CloudFront::OriginRequestPolicy',
  'AWS::CloudFront::ResponseHeadersPolicy',
  'AWS::WAFv2::WebACL',
  'AWS::WAFv2::LoggingConfiguration',
  'AWS::ApiGatewayV2::DomainName',
  'AWS::ApiGatewayV2::ApiMapping',
  'AWS::Route53::RecordSet',
  'AWS::Logs::Delivery',
  'AWS::Logs::DeliverySource',
];

let plain: Synth;
let edge: Synth;
let tuned: Synth;
let firewall: Json;
let tunedFirewall: Json;
let accessLogs: Json;

before(() => {
  plain = synthesize(buildApp(), allRoutes);
  edge = synthesize(buildApp(edgeContext), allRoutes);
  tuned = synthesize(buildApp(tunedContext), allRoutes);
  firewall = Template.fromStack(edge.stack.edge!.firewall).toJSON();
  tunedFirewall = Template.fromStack(tuned.stack.edge!.firewall).toJSON();
  accessLogs = Template.fromStack(edge.stack.edge!.logs).toJSON();
});

const one = (s: Synth, type: string): Json => {
  const found = ofType(s, type);
  assert.equal(found.length, 1, `one ${type}`);
  return found[0]![1];
};
const distributionConfig = (s: Synth) => one(s, 'AWS::CloudFront::Distribution').Properties.DistributionConfig;
const webAcl = (t: Json) => Object.values<Json>(t.Resources).find((r) => r.Type === 'AWS::WAFv2::WebACL').Properties;
const rule = (t: Json, name: string) => webAcl(t).Rules.find((r: Json) => r.Name === name);
/** The logical id of the Secrets Manager secret a {{resolve:secretsmanager:...}} value reads, if it is one. */
function resolvedSecret(value: Json): string | undefined {
  const parts = value?.['Fn::Join']?.[1];
  if (!Array.isArray(parts) || parts[0] !== '{{resolve:secretsmanager:' || !String(parts[2]).startsWith(':SecretString:')) return undefined;
  return parts[1]?.Ref;
}
/** Buckets other than the attachments construct's two (lib/constructs/attachments-bucket.ts). */
const edgeBuckets = (s: Synth) => {
  const attachments = [s.stack.attachments.bucket, s.stack.attachments.logBucket].map((b) => s.stack.getLogicalId(b.node.defaultChild as CfnResource));
  return ofType(s, 'AWS::S3::Bucket')
    .map(([id]) => id)
    .filter((id) => !attachments.includes(id));
};
const envOf = (s: Synth, id: string): Record<string, Json> =>
  res(s, s.stack.getLogicalId(s.stack.functions[id]!.function.node.defaultChild as CfnResource)).Properties.Environment.Variables;

describe('edge: without its context nothing changes', () => {
  it('one stack; no CloudFront, WAF, custom domain, API mapping, Route 53 record or log delivery', () => {
    assert.equal(plain.built.app.node.children.filter(Stack.isStack).length, 1, 'only the API stack');
    assert.equal(plain.stack.edge, undefined);
    for (const type of EDGE_TYPES) assert.deepEqual(ofType(plain, type), [], type);
    assert.deepEqual(edgeBuckets(plain), [], 'no bucket but the attachments bucket and its access log bucket');
  });

  it('execute-api stays on for both APIs, and the outputs are its URLs', () => {
    for (const [, api] of ofType(plain, 'AWS::ApiGatewayV2::Api')) assert.equal(api.Properties.DisableExecuteApiEndpoint, undefined);
    const outputs = plain.template.toJSON().Outputs;
    assert.match(JSON.stringify(outputs.HttpApiUrl.Value), /execute-api/);
    assert.match(JSON.stringify(outputs.WebSocketUrl.Value), /wss:\/\/.*execute-api/);
    assert.deepEqual(
      Object.keys(outputs).filter((k) => k.startsWith('Edge')),
      [],
    );
  });

  it('no function gets an origin secret, and @connections stays on the stage callback URL', () => {
    for (const route of allRoutes) {
      const env = envOf(plain, route.id);
      assert.equal(env[EDGE_ORIGIN_SECRET_ENV], undefined, route.id);
      if (route.manageConnections) assert.match(JSON.stringify(env[WS_CALLBACK_URL_ENV]), /execute-api/, route.id);
    }
  });

  it('readEdgeSettings gives nothing for a context without edge keys', () => {
    assert.equal(readEdgeSettings(new App({ context: { region: REGION, stage: 'x' } }).node), undefined);
  });
});

describe('edge: stacks and origins', () => {
  it('two stacks in us-east-1: the web ACL before the API stack (which keeps its region), the access logs after it', () => {
    const { firewall: fw, logs } = edge.stack.edge!;
    assert.equal(edge.stack.region, REGION);
    assert.equal(fw.region, EDGE_REGION);
    assert.equal(logs.region, EDGE_REGION);
    assert.equal(fw.stackName, `${edge.stack.stackName}-EdgeFirewall`);
    assert.equal(logs.stackName, `${edge.stack.stackName}-EdgeLogs`);
    assert.deepEqual(
      edge.stack.dependencies.map((d) => d.stackName),
      [fw.stackName],
    );
    assert.deepEqual(
      logs.dependencies.map((d) => d.stackName),
      [edge.stack.stackName],
    );
    const types = (t: Json) =>
      Object.values<Json>(t.Resources)
        .map((r) => r.Type)
        .sort();
    // each with its own logs key: log groups are KMS-encrypted like every other (Control Tower CT.CLOUDWATCH.PR.3)
    assert.deepEqual(types(firewall), ['AWS::KMS::Key', 'AWS::Logs::LogGroup', 'AWS::WAFv2::LoggingConfiguration', 'AWS::WAFv2::WebACL']);
    assert.deepEqual(types(accessLogs), [
      'AWS::KMS::Key',
      'AWS::Logs::Delivery',
      'AWS::Logs::DeliveryDestination',
      'AWS::Logs::DeliverySource',
      'AWS::Logs::LogGroup',
    ]);
    assert.deepEqual(edgeBuckets(edge), [], 'no log bucket (the only buckets are the attachments bucket and its access log bucket)');
  });

  it('both APIs have DisableExecuteApiEndpoint: true', () => {
    const apis = ofType(edge, 'AWS::ApiGatewayV2::Api');
    assert.equal(apis.length, 2);
    for (const [id, api] of apis) assert.equal(api.Properties.DisableExecuteApiEndpoint, true, id);
  });

  it('each API has its own regional custom domain (TLS 1.2, the regional certificate), mapped at the root to its stage', () => {
    const domains = Object.fromEntries(ofType(edge, 'AWS::ApiGatewayV2::DomainName').map(([id, d]) => [id, d.Properties]));
    assert.deepEqual(
      Object.values(domains)
        .map((d: Json) => d.DomainName)
        .sort(),
      [`api-origin.${DOMAIN}`, `ws-origin.${DOMAIN}`],
    );
    for (const d of Object.values<Json>(domains)) {
      assert.deepEqual(d.DomainNameConfigurations, [{ CertificateArn: ORIGIN_CERT, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }]);
    }
    const mappings = ofType(edge, 'AWS::ApiGatewayV2::ApiMapping').map(([, m]) => m.Properties);
    const apiOf = (name: string) => mappings.find((m) => domains[m.DomainName.Ref].DomainName === name);
    assert.deepEqual(apiOf(`api-origin.${DOMAIN}`), {
      ApiId: { Ref: edge.stack.getLogicalId(edge.stack.httpApi.node.defaultChild as CfnResource) },
      DomainName: apiOf(`api-origin.${DOMAIN}`).DomainName,
      Stage: '$default',
    });
    assert.deepEqual(apiOf(`ws-origin.${DOMAIN}`), {
      ApiId: { Ref: edge.stack.getLogicalId(edge.stack.webSocketApi.node.defaultChild as CfnResource) },
      DomainName: apiOf(`ws-origin.${DOMAIN}`).DomainName,
      Stage: 'edge',
    });
    for (const m of mappings) assert.equal(m.ApiMappingKey, undefined, 'root mappings: @connections answers at https://<ws origin>/@connections');
  });

  it('in us-east-1 one certificate serves CloudFront and the origins; origin names can be chosen', () => {
    for (const [, d] of ofType(tuned, 'AWS::ApiGatewayV2::DomainName')) assert.equal(d.Properties.DomainNameConfigurations[0].CertificateArn, EDGE_CERT);
    assert.deepEqual(
      ofType(tuned, 'AWS::ApiGatewayV2::DomainName')
        .map(([, d]) => d.Properties.DomainName)
        .sort(),
      ['h7k2.origin.example.org', 'w9q4.origin.example.org'],
    );
  });
});

describe('edge: the distribution', () => {
  it('on the custom domain with the us-east-1 certificate, TLS 1.2+, HTTPS only, HTTP/2 and 3, IPv4 only, access logs', () => {
    const d = distributionConfig(edge);
    assert.deepEqual(d.Aliases, [DOMAIN]);
    assert.deepEqual(d.ViewerCertificate, { AcmCertificateArn: EDGE_CERT, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' });
    assert.equal(d.HttpVersion, 'http2and3');
    assert.equal(d.IPV6Enabled, false, 'per-IP limits mean little when one subscriber holds a /64');
    assert.equal(d.Enabled, true);
    assert.equal(d.Logging, undefined, 'no legacy logging (it would log query strings): standard logging v2, below');
  });

  it('access logs: CloudFront standard logging v2 into a log group with retention, without query string, cookies, Referer or X-Forwarded-For', () => {
    const byType = (type: string) => Object.values<Json>(accessLogs.Resources).find((r) => r.Type === type).Properties;
    const source = byType('AWS::Logs::DeliverySource');
    assert.equal(source.LogType, 'ACCESS_LOGS');
    const distributionOutput = JSON.stringify(source.ResourceArn);
    assert.match(distributionOutput, /:distribution\//);
    assert.match(distributionOutput, new RegExp(`"Fn::GetStackOutput":\\{"StackName":"${edge.stack.stackName}","Region":"${REGION}"`));
    const group = byType('AWS::Logs::LogGroup');
    assert.equal(group.LogGroupName, `/aws/vendedlogs/nexchat/${edge.stack.stackName}/cloudfront-access`);
    assert.ok(group.RetentionInDays > 0);
    const destination = byType('AWS::Logs::DeliveryDestination');
    assert.deepEqual(destination.DestinationResourceArn['Fn::GetAtt'][1], 'Arn');
    const delivery = byType('AWS::Logs::Delivery');
    assert.equal(delivery.DeliverySourceName, source.Name);
    assert.deepEqual(delivery.RecordFields, [...ACCESS_LOG_FIELDS]);
    for (const field of ['c-ip', 'cs-method', 'cs-uri-stem', 'sc-status', 'x-edge-request-id', 'time-taken'])
      assert.ok(delivery.RecordFields.includes(field), field);
    for (const secret of ['cs-uri-query', 'cs(Cookie)', 'cs(Referer)', 'x-forwarded-for']) assert.ok(!delivery.RecordFields.includes(secret), secret);
  });

  it('the web ACL is the firewall stack’s, read across regions with Fn::GetStackOutput', () => {
    const ref = distributionConfig(edge).WebACLId['Fn::GetStackOutput'];
    assert.equal(ref.StackName, edge.stack.edge!.firewall.stackName);
    assert.equal(ref.Region, EDGE_REGION);
    assert.deepEqual(firewall.Outputs[ref.OutputName].Value, {
      'Fn::GetAtt': [Object.keys(firewall.Resources).find((k) => firewall.Resources[k].Type === 'AWS::WAFv2::WebACL'), 'Arn'],
    });
  });

  it('origins: the two custom domains, HTTPS with TLS 1.2 only, each sent the origin-verify secret (a dynamic reference, never a literal)', () => {
    const d = distributionConfig(edge);
    assert.deepEqual(d.Origins.map((o: Json) => o.DomainName).sort(), [`api-origin.${DOMAIN}`, `ws-origin.${DOMAIN}`]);
    const secretIds = ofType(edge, 'AWS::SecretsManager::Secret').map(([id]) => id);
    for (const o of d.Origins) {
      assert.deepEqual(o.CustomOriginConfig, { OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
      assert.equal(o.OriginCustomHeaders.length, 1);
      assert.equal(o.OriginCustomHeaders[0].HeaderName, ORIGIN_VERIFY_HEADER);
      const secret = resolvedSecret(o.OriginCustomHeaders[0].HeaderValue);
      assert.ok(secret && secretIds.includes(secret), `${o.DomainName}: the header's value is resolved from a secret of this stack`);
      assert.ok(res(edge, secret).Properties.GenerateSecretString, 'generated by Secrets Manager');
    }
  });

  it('/api/* goes to the HTTP API: caching off, every method, every viewer header but Host (Authorization, cookies, CORS), every query string', () => {
    const d = distributionConfig(edge);
    assert.equal(d.CacheBehaviors.length, 1);
    const http = d.CacheBehaviors[0];
    assert.equal(http.PathPattern, `${HTTP_PATH_PREFIX}*`);
    const origin = d.Origins.find((o: Json) => o.Id === http.TargetOriginId);
    assert.equal(origin.DomainName, `api-origin.${DOMAIN}`);
    assert.deepEqual([...http.AllowedMethods].sort(), ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);
    assert.equal(http.CachePolicyId, '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', 'Managed-CachingDisabled');
    assert.equal(http.OriginRequestPolicyId, 'b689b0a8-53d0-40ab-baf2-68738e2966ac', 'Managed-AllViewerExceptHostHeader');
    assert.equal(http.ViewerProtocolPolicy, 'https-only');
  });

  it('everything else is the WebSocket API: caching off, GET/HEAD, the handshake headers and the ticket, no Host, no cookies', () => {
    const d = distributionConfig(edge);
    const ws = d.DefaultCacheBehavior;
    assert.equal(d.Origins.find((o: Json) => o.Id === ws.TargetOriginId).DomainName, `ws-origin.${DOMAIN}`);
    assert.deepEqual(ws.AllowedMethods, ['GET', 'HEAD']);
    assert.equal(ws.CachePolicyId, '4135ea2d-6df8-44a3-9df3-4b5a84be39ad');
    assert.equal(ws.ViewerProtocolPolicy, 'https-only');
    const policy = res(edge, ws.OriginRequestPolicyId.Ref).Properties.OriginRequestPolicyConfig;
    assert.equal(policy.HeadersConfig.HeaderBehavior, 'whitelist');
    for (const h of ['Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'CloudFront-Viewer-Address']) assert.ok(policy.HeadersConfig.Headers.includes(h), h);
    assert.ok(!policy.HeadersConfig.Headers.some((h: string) => /^host$/i.test(h)), 'never the viewer Host (the custom domain must see its own name)');
    const connect = manifest.wsConnect as WsRoute;
    assert.deepEqual(policy.QueryStringsConfig, { QueryStringBehavior: 'whitelist', QueryStrings: [connect.authorizer!.queryParameter] });
    assert.deepEqual(policy.CookiesConfig, { CookieBehavior: 'none' });
  });

  it('every HTTP route of the manifest is under /api/, so the path split sends it to the HTTP API', () => {
    for (const r of allRoutes) if (r.kind === 'http') assert.ok(r.path.startsWith(HTTP_PATH_PREFIX), `${r.id} ${r.path}`);
  });

  it('the response headers policy on both behaviours adds exactly the headers the Lambdas send, without overriding theirs', async () => {
    const d = distributionConfig(edge);
    const ids = [d.DefaultCacheBehavior, ...d.CacheBehaviors].map((b: Json) => b.ResponseHeadersPolicyId.Ref);
    assert.equal(new Set(ids).size, 1, 'one policy for both behaviours');
    const config = res(edge, ids[0]).Properties.ResponseHeadersPolicyConfig;
    const sec = config.SecurityHeadersConfig;
    const hsts = sec.StrictTransportSecurity;
    assert.ok(hsts.AccessControlMaxAgeSec >= 31536000, 'HSTS at least a year');
    const added: Record<string, string> = {
      'Strict-Transport-Security': `max-age=${hsts.AccessControlMaxAgeSec}${hsts.IncludeSubdomains ? '; includeSubDomains' : ''}${hsts.Preload ? '; preload' : ''}`,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': sec.FrameOptions.FrameOption,
      'Referrer-Policy': sec.ReferrerPolicy.ReferrerPolicy,
      'Content-Security-Policy': sec.ContentSecurityPolicy.ContentSecurityPolicy,
      ...Object.fromEntries(config.CustomHeadersConfig.Items.map((h: Json) => [h.Header, h.Value])),
    };
    const lambdas = Object.fromEntries(Object.entries(await stackHeaders()).filter(([, v]) => v !== ''));
    const lower = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v]));
    assert.deepEqual(lower(added), lower(lambdas), 'the same names and values as functions/middleware/http-handler.ts sends');
    assert.deepEqual(lower({ ...EDGE_SECURITY_HEADERS }), lower(lambdas), 'EDGE_SECURITY_HEADERS (also on WAF rate responses) too');
    const overrides = [...Object.values<Json>(sec).map((h) => h.Override), ...config.CustomHeadersConfig.Items.map((h: Json) => h.Override)];
    assert.ok(
      overrides.every((o) => o === false),
      'fill-in only: a function stays the source of its own headers',
    );
  });

  it('outputs: https and wss on the custom domain, and the DNS records', () => {
    const outputs = edge.template.toJSON().Outputs;
    assert.equal(outputs.HttpApiUrl.Value, `https://${DOMAIN}`);
    assert.equal(outputs.WebSocketUrl.Value, `wss://${DOMAIN}`);
    assert.match(JSON.stringify(outputs.EdgeDnsPublic.Value), new RegExp(`${DOMAIN}.*DomainName`));
    assert.match(JSON.stringify(outputs.EdgeDnsHttpOrigin.Value), /api-origin\.chat\.example\.com.*RegionalDomainName/);
    assert.match(JSON.stringify(outputs.EdgeDnsWsOrigin.Value), /ws-origin\.chat\.example\.com.*RegionalDomainName/);
    assert.match(tuned.template.toJSON().Outputs.EdgeDnsPublic.Description, /create it/, 'without a zone the operator is told to create them');
  });
});

describe('edge: DNS', () => {
  it('with a hosted zone: an alias A record for the public name to the distribution, and for each origin to its regional domain', () => {
    const records = ofType(edge, 'AWS::Route53::RecordSet').map(([, r]) => r.Properties);
    const summary = records.map((r) => `${r.Type} ${r.Name} -> ${JSON.stringify(r.AliasTarget.DNSName)}`).sort();
    assert.equal(records.length, 3, summary.join('\n'));
    for (const r of records) assert.equal(r.HostedZoneId, edgeContext.edgeHostedZoneId);
    const named = (name: string) => records.filter((r) => r.Name === `${name}.`);
    assert.deepEqual(
      named(DOMAIN)
        .map((r) => r.Type)
        .sort(),
      ['A'],
      'no AAAA: the distribution is IPv4 only',
    );
    for (const r of named(DOMAIN)) assert.match(JSON.stringify(r.AliasTarget.DNSName), /Distribution.*DomainName/);
    for (const origin of [`api-origin.${DOMAIN}`, `ws-origin.${DOMAIN}`]) {
      assert.deepEqual(
        named(origin).map((r) => r.Type),
        ['A'],
      );
      assert.match(JSON.stringify(named(origin)[0].AliasTarget.DNSName), /OriginDomain.*RegionalDomainName/);
    }
  });

  it('without a hosted zone: no records', () => {
    assert.deepEqual(ofType(tuned, 'AWS::Route53::RecordSet'), []);
  });
});

describe('edge: the web ACL', () => {
  it('CLOUDFRONT scope, allow by default, metrics and sampled requests on for the ACL and every rule', () => {
    const acl = webAcl(firewall);
    assert.equal(acl.Scope, 'CLOUDFRONT');
    assert.deepEqual(acl.DefaultAction, { Allow: {} });
    for (const v of [acl.VisibilityConfig, ...acl.Rules.map((r: Json) => r.VisibilityConfig)]) {
      assert.equal(v.CloudWatchMetricsEnabled, true);
      assert.equal(v.SampledRequestsEnabled, true);
    }
  });

  it('rules in order: IP reputation, the three per-IP rate rules, known bad inputs, the common rule set', () => {
    const rules = webAcl(firewall).Rules;
    assert.deepEqual(
      rules.map((r: Json) => [r.Priority, r.Name]),
      [
        [0, 'AWSManagedRulesAmazonIpReputationList'],
        [1, 'CredentialsPerIp'],
        [2, 'AuthPerIp'],
        [3, 'ConnectPerIp'],
        [4, 'AWSManagedRulesKnownBadInputsRuleSet'],
        [5, 'AWSManagedRulesCommonRuleSet'],
      ],
    );
    for (const name of MANAGED_RULE_GROUPS) {
      const r = rule(firewall, name);
      assert.deepEqual(r.OverrideAction, { None: {} }, `${name}: its own actions (block)`);
      assert.equal(r.Statement.ManagedRuleGroupStatement.VendorName, 'AWS');
      assert.equal(r.Statement.ManagedRuleGroupStatement.Name, name);
    }
  });

  /** The path prefixes a rate rule's scope-down statement matches (URL-decoded, normalised, lower-cased). */
  function scopedPaths(statement: Json): string[] {
    const matches = statement.OrStatement ? statement.OrStatement.Statements : [statement];
    return matches.map((m: Json) => {
      const b = m.ByteMatchStatement;
      assert.deepEqual(b.FieldToMatch, { UriPath: {} });
      assert.equal(b.PositionalConstraint, 'STARTS_WITH');
      assert.deepEqual(
        b.TextTransformations.map((t: Json) => t.Type),
        ['URL_DECODE', 'NORMALIZE_PATH', 'LOWERCASE'],
      );
      return b.SearchString;
    });
  }

  it('the credential rule counts per IP on exactly the login, register, OTP request and password reset paths of the manifest', () => {
    const r = rule(firewall, 'CredentialsPerIp').Statement.RateBasedStatement;
    assert.equal(r.AggregateKeyType, 'IP');
    assert.equal(r.Limit, DEFAULT_RATE_LIMITS.credentials);
    assert.equal(r.EvaluationWindowSec, 300);
    const expected = [manifest.login, manifest.register, manifest.requestOtp, manifest.resetPassword].map((x) => x.path).sort();
    assert.deepEqual(scopedPaths(r.ScopeDownStatement).sort(), expected);
    assert.deepEqual(CREDENTIAL_ROUTES.map((x) => x.path).sort(), expected);
    for (const p of expected)
      assert.ok(
        allRoutes.some((x) => x.kind === 'http' && x.path === p && x.access === 'public'),
        `${p} is a public route of the manifest`,
      );
  });

  it('the auth rule covers every /api/auth/ route; the connect rule everything that is not /api/ (the WebSocket origin)', () => {
    const auth = rule(firewall, 'AuthPerIp').Statement.RateBasedStatement;
    assert.equal(auth.AggregateKeyType, 'IP');
    assert.equal(auth.Limit, DEFAULT_RATE_LIMITS.auth);
    assert.deepEqual(scopedPaths(auth.ScopeDownStatement), [AUTH_PATH_PREFIX]);
    const authRoutes = allRoutes.filter((x): x is HttpRoute => x.kind === 'http' && x.path.startsWith(AUTH_PATH_PREFIX));
    assert.ok(authRoutes.length >= 8, 'login, register, OTP, refresh, logout(s), password reset and change');
    for (const p of [manifest.login, manifest.refresh, manifest.logout, manifest.changePassword].map((x) => x.path))
      assert.ok(p.startsWith(AUTH_PATH_PREFIX), p);
    const connect = rule(firewall, 'ConnectPerIp').Statement.RateBasedStatement;
    assert.equal(connect.Limit, DEFAULT_RATE_LIMITS.connect);
    assert.deepEqual(scopedPaths(connect.ScopeDownStatement.NotStatement.Statement), [HTTP_PATH_PREFIX]);
  });

  it('a rate block is a 429 with the API’s JSON error shape, Retry-After and the security headers', () => {
    const acl = webAcl(firewall);
    for (const name of ['CredentialsPerIp', 'AuthPerIp', 'ConnectPerIp']) {
      const response = rule(firewall, name).Action.Block.CustomResponse;
      assert.equal(response.ResponseCode, 429, name);
      const headers = Object.fromEntries(response.ResponseHeaders.map((h: Json) => [h.Name, h.Value]));
      assert.equal(headers['Retry-After'], '300');
      for (const [k, v] of Object.entries(EDGE_SECURITY_HEADERS)) assert.equal(headers[k], v, `${name}: ${k}`);
      const body = acl.CustomResponseBodies[response.CustomResponseBodyKey];
      assert.equal(body.ContentType, 'APPLICATION_JSON');
      const parsed = JSON.parse(body.Content);
      assert.equal(parsed.error.code, 'rate_limited');
      assert.equal(parsed.error.details.retryAfterSeconds, 300);
    }
  });

  it('the common rule set counts (does not block) its 8 KB body rule: a message ciphertext alone may be 120,000 characters', () => {
    const overrides = rule(firewall, 'AWSManagedRulesCommonRuleSet').Statement.ManagedRuleGroupStatement.RuleActionOverrides;
    assert.deepEqual(
      overrides,
      ALWAYS_COUNTED_RULES.map((name) => ({ Name: name, ActionToUse: { Count: {} } })),
    );
    assert.ok(ALWAYS_COUNTED_RULES.includes('SizeRestrictions_BODY'));
  });

  it('limits, window and counted rules follow context', () => {
    for (const [name, limit] of [
      ['CredentialsPerIp', 50],
      ['AuthPerIp', 600],
      ['ConnectPerIp', 120],
    ] as const) {
      const r = rule(tunedFirewall, name);
      assert.equal(r.Statement.RateBasedStatement.Limit, limit, name);
      assert.equal(r.Statement.RateBasedStatement.EvaluationWindowSec, 600, name);
      assert.equal(Object.fromEntries(r.Action.Block.CustomResponse.ResponseHeaders.map((h: Json) => [h.Name, h.Value]))['Retry-After'], '600');
    }
    const overrides = rule(tunedFirewall, 'AWSManagedRulesCommonRuleSet').Statement.ManagedRuleGroupStatement.RuleActionOverrides;
    assert.deepEqual(
      overrides.map((o: Json) => o.Name),
      ['SizeRestrictions_BODY', 'NoUserAgent_HEADER', 'SizeRestrictions_QUERYSTRING'],
    );
  });

  it('WAF logs what it blocked or counted, to aws-waf-logs-<stack>, without Authorization, cookies or the query string (the ticket)', () => {
    const [group] = Object.values<Json>(firewall.Resources).filter((r) => r.Type === 'AWS::Logs::LogGroup');
    assert.equal(group.Properties.LogGroupName, `aws-waf-logs-${edge.stack.stackName}`);
    assert.ok(group.Properties.RetentionInDays > 0);
    const logging = Object.values<Json>(firewall.Resources).find((r) => r.Type === 'AWS::WAFv2::LoggingConfiguration').Properties;
    assert.match(JSON.stringify(logging.LogDestinationConfigs), /:log-group:aws-waf-logs-/);
    assert.doesNotMatch(JSON.stringify(logging.LogDestinationConfigs), /:\*/, 'WAF takes the ARN without :*');
    assert.deepEqual(logging.RedactedFields, [{ SingleHeader: { Name: 'authorization' } }, { SingleHeader: { Name: 'cookie' } }, { QueryString: {} }]);
    assert.equal(logging.LoggingFilter.DefaultBehavior, 'DROP');
    assert.deepEqual(
      logging.LoggingFilter.Filters.map((f: Json) => [f.Behavior, f.Conditions[0].ActionCondition.Action]),
      [
        ['KEEP', 'BLOCK'],
        ['KEEP', 'COUNT'],
        ['KEEP', 'EXCLUDED_AS_COUNT'],
      ],
    );
  });
});

describe('edge: the functions', () => {
  it('HTTP routes and the $connect authorizer read the origin secret (the same dynamic reference CloudFront sends); nothing else does', () => {
    const sent = resolvedSecret(distributionConfig(edge).Origins[0].OriginCustomHeaders[0].HeaderValue);
    const authorizers = allRoutes.flatMap((r) => (r.kind === 'ws' && r.authorizer ? [r.authorizer.id] : []));
    assert.ok(authorizers.length > 0);
    for (const id of Object.keys(edge.stack.functions)) {
      const value = envOf(edge, id)[EDGE_ORIGIN_SECRET_ENV];
      const checks = authorizers.includes(id) || allRoutes.some((r) => r.id === id && r.kind === 'http');
      if (checks) assert.equal(resolvedSecret(value), sent, id);
      else assert.equal(value, undefined, id);
    }
  });

  it('@connections users call it on the WebSocket custom domain (execute-api is off)', () => {
    for (const r of allRoutes.filter((x) => x.manageConnections)) assert.equal(envOf(edge, r.id)[WS_CALLBACK_URL_ENV], `https://ws-origin.${DOMAIN}`, r.id);
  });

  it('the names the stack sets are the ones the functions read', () => {
    assert.equal(ORIGIN_VERIFY_HEADER, CHECKED_HEADER);
    assert.equal(loadConfig({ [EDGE_ORIGIN_SECRET_ENV]: 'sekrit' }).edgeOriginSecret, 'sekrit');
  });
});

describe('edge: cdk-nag', () => {
  it('every stack synthesizes with zero findings, errors or warnings', () => {
    for (const s of [edge, tuned]) {
      assert.equal(s.built.app.node.children.filter(Stack.isStack).length, 3, 'the API stack, its firewall and its log stacks');
      assert.deepEqual(violationLines(s.report, ['error', 'fatal', 'warning']), [], s.stack.stackName);
    }
  });

  it('the packs check the firewall stack too: a non-compliant resource there fails synthesis', () => {
    const built = buildApp(edgeContext);
    new LogGroup(built.stack.edge!.firewall, 'ForeverLogs', { retention: RetentionDays.INFINITE });
    const report = failedSynthReport(built.app);
    assert.match(report, /Serverless-CloudWatchLogGroupRetentionPeriod/);
    assert.match(report, /EdgeFirewall\/ForeverLogs/);
  });

  it('every acknowledgement names one resource, one rule and a reason, and matches a real finding; the edge adds CFR1, CFR3 and SMG4 only', () => {
    const raw = rawNagFindings(() => buildApp(edgeContext));
    // cdk-nag's only: the Control Tower (cfn-guard) ones are checked by tests/infra/guard.test.ts.
    const acks = acknowledgements(edge.built.app).filter((a) => !isControlTowerAcknowledgement(a));
    for (const ack of acks) {
      const where = `${ack.rule} @ ${ack.construct.node.path}`;
      assert.ok(CfnResource.isCfnResource(ack.construct), where);
      assert.ok(ack.reason.length >= 40, `${where}: has a reason`);
      assert.ok(
        raw.some((f) => f.rule === ack.rule && f.path === ack.construct.node.path),
        `${where}: suppresses a real finding`,
      );
    }
    const edgeAcks = acks
      .filter((a) => a.construct.node.path.includes('/Edge/'))
      .map((a) => a.rule)
      .sort();
    assert.deepEqual(edgeAcks, ['AwsSolutions-CFR1', 'AwsSolutions-CFR3', 'AwsSolutions-SMG4']);
    assert.deepEqual(
      raw.filter((f) => f.severity === 'error' && !acks.some((a) => a.rule === f.rule && a.construct.node.path === f.path)),
      [],
    );
    assert.deepEqual(
      raw.filter((f) => /EdgeFirewall|EdgeLogs/.test(f.path)),
      [],
      'nothing to acknowledge in the us-east-1 stacks',
    );
  });
});

describe('edge: context is validated, naming the key', () => {
  const read = (context: Record<string, unknown>) => readEdgeSettings(new App({ context: { ...edgeContext, ...context } }).node);
  const without = (key: string) => {
    const context: Record<string, unknown> = { ...edgeContext };
    delete context[key];
    return readEdgeSettings(new App({ context }).node);
  };

  it('defaults: origin names under the domain, the default limits, nothing extra counted', () => {
    const s = read({ edgeHostedZoneId: undefined, edgeHostedZoneName: undefined });
    assert.deepEqual(s, {
      domain: DOMAIN,
      certificateArn: EDGE_CERT,
      originCertificateArn: ORIGIN_CERT,
      httpOrigin: `api-origin.${DOMAIN}`,
      wsOrigin: `ws-origin.${DOMAIN}`,
      rateLimits: DEFAULT_RATE_LIMITS,
      countRules: [],
    });
  });

  it('the region must be pinned; certificates are required and in the right regions', () => {
    assert.throws(() => without('region'), /context "edgeDomain" needs .* context "region"/);
    assert.throws(() => without('edgeCertificateArn'), /context "edgeCertificateArn" is required/);
    assert.throws(() => without('edgeOriginCertificateArn'), /context "edgeOriginCertificateArn" is required .*eu-west-1/);
    assert.throws(() => read({ edgeCertificateArn: ORIGIN_CERT }), /context "edgeCertificateArn" must be a certificate in us-east-1/);
    assert.throws(
      () => read({ edgeOriginCertificateArn: EDGE_CERT }),
      /context "edgeOriginCertificateArn" must be a certificate in the stack's region eu-west-1/,
    );
    assert.throws(() => read({ edgeCertificateArn: 'arn:aws:acm:us-east-1:123:certificate/x' }), /context "edgeCertificateArn" must be an ACM certificate ARN/);
  });

  it('a typo or an edge key without edgeDomain fails', () => {
    assert.throws(() => read({ edgeDomian: 'x.example.com' }), /context "edgeDomian" is not an edge setting/);
    assert.throws(() => read({ edgeRateLimit: 5 }), /context "edgeRateLimit" is not an edge setting/);
    assert.throws(() => without('edgeDomain'), /context "edgeCertificateArn" is set but "edgeDomain" is not/);
  });

  it('host names, the zone, limits, window, rule names and the secret version are checked', () => {
    assert.throws(() => read({ edgeDomain: 'https://chat.example.com' }), /context "edgeDomain" must be the public host name/);
    assert.throws(() => read({ edgeDomain: 'Chat.Example.com' }), /context "edgeDomain"/);
    assert.throws(() => read({ edgeHttpOrigin: DOMAIN }), /must be three different host names/);
    assert.throws(() => read({ edgeWsOrigin: 'ws_origin.example.com' }), /context "edgeWsOrigin" must be a host name/);
    assert.throws(() => without('edgeHostedZoneName'), /context "edgeHostedZoneName" is needed too/);
    assert.throws(() => read({ edgeHostedZoneId: 'zone-1' }), /context "edgeHostedZoneId" must be a Route 53 hosted zone id/);
    assert.throws(() => read({ edgeHostedZoneName: 'example.org' }), /context "edgeDomain" \(chat\.example\.com\) is not in the hosted zone/);
    assert.throws(() => read({ edgeWsOrigin: 'ws.example.net' }), /context "edgeWsOrigin" \(ws\.example\.net\) is not in the hosted zone/);
    assert.throws(() => read({ edgeCredentialRateLimit: 5 }), /context "edgeCredentialRateLimit" must be an integer from 10/);
    assert.throws(() => read({ edgeAuthRateLimit: '1e3' }), /context "edgeAuthRateLimit" must be an integer/);
    assert.throws(() => read({ edgeConnectRateLimit: 12.5 }), /context "edgeConnectRateLimit" must be an integer/);
    assert.throws(() => read({ edgeRateWindowSeconds: 900 }), /context "edgeRateWindowSeconds" must be one of 60, 120, 300, 600/);
    assert.throws(() => read({ edgeCountRules: 'NoUserAgent HEADER' }), /context "edgeCountRules" must be comma-separated/);
    assert.throws(() => read({ edgeCountRules: ' , ' }), /context "edgeCountRules"/);
    assert.throws(() => read({ edgeOriginSecretVersion: 'v1' }), /context "edgeOriginSecretVersion" must be a Secrets Manager version id/);
    assert.equal(read({ edgeOriginSecretVersion: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111' })?.originSecretVersion, 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111');
  });

  it('the real app refuses bad context too', () => {
    assert.throws(() => buildApp({ ...edgeContext, edgeRateWindowSeconds: '30' }), /context "edgeRateWindowSeconds"/);
  });

  it('routes the path split cannot serve fail: an HTTP route outside /api/, a $connect without its authorizer', () => {
    checkEdgeRoutes(allRoutes);
    const outside = { ...manifest.getHealth, id: 'TestOutside', path: '/health' } as HttpRoute;
    assert.throws(() => checkEdgeRoutes([...allRoutes, outside]), /route TestOutside \(\/health\): behind the edge every HTTP route must live under \/api\//);
    const { authorizer: _, ...connect } = manifest.wsConnect as WsRoute;
    const rest = allRoutes.filter((r) => r.id !== manifest.wsConnect.id);
    assert.throws(() => checkEdgeRoutes([...rest, { ...connect, access: 'public' } as WsRoute]), /behind the edge \$connect needs its authorizer/);
  });

  it('a secret version pins both readers of the secret', () => {
    const pinned = `:SecretString:::${tunedContext.edgeOriginSecretVersion}}}`;
    for (const o of distributionConfig(tuned).Origins) assert.ok(JSON.stringify(o.OriginCustomHeaders[0].HeaderValue).includes(pinned), o.DomainName);
    assert.ok(JSON.stringify(envOf(tuned, manifest.login.id)[EDGE_ORIGIN_SECRET_ENV]).includes(pinned));
    assert.ok(!JSON.stringify(distributionConfig(edge).Origins).includes(':SecretString:::a'), 'unpinned by default: the current version');
  });
});
