// Infrastructure tests: synthesize the real app (esbuild bundling skipped for speed) and check that
// the template says what the manifest says: a function, a gateway route and a throttle per route;
// grants no wider than the manifest's; durable tables; logged stages; cdk-nag clean, with every
// acknowledgement narrow (one resource, one rule, a reason) and matching a real finding.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { CfnResource, Validations, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { createApp, type NexChatApp } from '../bin/nexchat.ts';
import { DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_SECONDS, secretEnvVars, WS_CALLBACK_URL_ENV } from '../lib/constructs/route-function.ts';
import type { NexChatStack } from '../lib/nexchat-stack.ts';
import { allRoutes, httpRouteKey, httpRoutes, stageThrottle, wsRoutes, type Route, type Throttle } from '../lib/routes.ts';
import { tables, type TableId } from '../lib/tables.ts';

// ---- template plumbing --------------------------------------------------------------------------

/** CloudFormation JSON is untyped; these tests read it structurally. */
type Json = any;

interface CfnJson {
  Type: string;
  Properties?: Json;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };

/** The app exactly as `cdk synth` builds it (same context, same nag packs), minus esbuild. */
function buildApp(extraContext: Record<string, unknown> = {}): NexChatApp {
  return createApp({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...extraContext } });
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The logical id a Ref or Fn::GetAtt points at, searching inside Fn::Join as well. */
function referencedId(value: Json): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (typeof value.Ref === 'string') return value.Ref;
  if (Array.isArray(value['Fn::GetAtt'])) return value['Fn::GetAtt'][0];
  if (Array.isArray(value['Fn::Join'])) {
    for (const part of value['Fn::Join'][1]) {
      const id = referencedId(part);
      if (id && !id.startsWith('AWS::')) return id;
    }
  }
  return undefined;
}

function throttleSettings(t: Throttle) {
  return { ThrottlingRateLimit: t.rate, ThrottlingBurstLimit: t.burst };
}

// ---- the least-privilege checker (unit-tested below, so it can be trusted to fail) ---------------

/** DynamoDB actions that only read. Anything else (including wildcards) counts as a write. */
const DYNAMO_READ_ACTIONS = new Set([
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:Query',
  'dynamodb:Scan',
]);

interface DynamoAccess {
  /** Table logical id -> DynamoDB actions allowed on it (its indexes included). */
  readonly tables: Map<string, Set<string>>;
  /** Statements that grant DynamoDB actions on anything but a named table or its indexes. */
  readonly problems: string[];
}

/** Which tables a set of IAM statements opens to DynamoDB actions, and which statements are too wide. */
function dynamoAccess(statements: Json[]): DynamoAccess {
  const access: DynamoAccess = { tables: new Map(), problems: [] };
  for (const st of statements) {
    if (st.Effect !== 'Allow') continue;
    const actions = asArray<string>(st.Action).filter((a) => a === '*' || a.toLowerCase().startsWith('dynamodb:'));
    if (actions.length === 0) continue;
    for (const resource of asArray<Json>(st.Resource)) {
      const tableId = tableArnOf(resource);
      if (!tableId) {
        access.problems.push(`${actions.join(',')} on ${JSON.stringify(resource)}`);
        continue;
      }
      const set = access.tables.get(tableId) ?? new Set<string>();
      for (const a of actions) set.add(a);
      access.tables.set(tableId, set);
    }
  }
  return access;
}

/** Logical id of the table when `resource` is that table's ARN or `<arn>/index/*`, else undefined. */
function tableArnOf(resource: Json): string | undefined {
  const getAtt = (v: Json) => (Array.isArray(v?.['Fn::GetAtt']) && v['Fn::GetAtt'][1] === 'Arn' ? (v['Fn::GetAtt'][0] as string) : undefined);
  const direct = getAtt(resource);
  if (direct) return direct;
  const join = resource?.['Fn::Join'];
  if (Array.isArray(join) && join[0] === '' && join[1].length === 2 && join[1][1] === '/index/*') return getAtt(join[1][0]);
  return undefined;
}

// ---- the synthesized app --------------------------------------------------------------------------

let built: NexChatApp;
let stack: NexChatStack;
let template: Template;
let resources: Record<string, CfnJson>;
let validationReport: Json;

const logicalId = (c: IConstruct) => stack.getLogicalId((c.node.defaultChild ?? c) as CfnElement);
function res(id: string): CfnJson {
  const r = resources[id];
  assert.ok(r, `resource ${id} is in the template`);
  return r;
}
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const functionId = (route: Route) => logicalId(stack.functions[route.id]!.function);
const tableIds = () => new Map(tables.map((t) => [logicalId(stack.tables[t.id]), t.id] as [string, TableId]));

/** Every statement the function's role is allowed: its inline policies and attached AWS::IAM::Policy. */
function roleStatements(route: Route): Json[] {
  const roleId = referencedId(res(functionId(route)).Properties.Role);
  assert.ok(roleId, `${route.id} has a role`);
  const role = res(roleId);
  assert.equal(role.Properties.ManagedPolicyArns, undefined, `${route.id}: no managed policies on the role`);
  const inline = asArray<Json>(role.Properties.Policies).flatMap((p) => asArray<Json>(p.PolicyDocument.Statement));
  const attached = ofType('AWS::IAM::Policy')
    .filter(([, p]) => asArray<Json>(p.Properties.Roles).some((r) => referencedId(r) === roleId))
    .flatMap(([, p]) => asArray<Json>(p.Properties.PolicyDocument.Statement));
  return [...inline, ...attached];
}

/** The violations in a validation report, one line each. */
function violationLines(report: Json, severities: readonly string[]): string[] {
  return asArray<Json>(report.pluginReports).flatMap((p) =>
    asArray<Json>(p.violations)
      .filter((v) => severities.includes(v.severity))
      .map((v) => `${v.severity} ${v.ruleName} @ ${asArray<Json>(v.violatingConstructs).map((c) => c.constructPath).join(', ')}`),
  );
}

/**
 * Synthesis runs the registered validation plugins (cdk-nag) and throws on a failed report. Note
 * that cdk-nag 3.0.2 fails a report on warnings too, so an unacknowledged warning also lands here.
 */
function synthesize(app: NexChatApp['app']) {
  try {
    return app.synth();
  } catch (error) {
    const reportPath = /\S+validation-report\.json/.exec(String(error))?.[0];
    if (!reportPath) throw error;
    const lines = violationLines(JSON.parse(readFileSync(reportPath, 'utf8')), ['error', 'fatal', 'warning']);
    throw new Error(`synthesis failed validation:\n  ${lines.join('\n  ')}`, { cause: error });
  }
}

before(() => {
  built = buildApp();
  stack = built.stack;
  const assembly = synthesize(built.app);
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
  validationReport = JSON.parse(readFileSync(`${assembly.directory}/validation-report.json`, 'utf8'));
});

// ---- functions and routes -------------------------------------------------------------------------

describe('functions', () => {
  it('one Lambda per manifest route, nothing else', () => {
    assert.equal(allRoutes.length, httpRoutes.length + wsRoutes.length);
    template.resourceCountIs('AWS::Lambda::Function', allRoutes.length);
  });

  for (const route of allRoutes) {
    it(`${route.id}: nodejs24.x on arm64, traced, sized, with its own log group`, () => {
      const p = res(functionId(route)).Properties;
      assert.equal(p.Runtime, 'nodejs24.x');
      assert.deepEqual(p.Architectures, ['arm64']);
      assert.deepEqual(p.TracingConfig, { Mode: 'Active' });
      assert.equal(p.MemorySize, route.memoryMb ?? DEFAULT_MEMORY_MB);
      assert.equal(p.Timeout, route.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS);
      assert.equal(p.Handler, 'index.handler');
      assert.equal(p.Environment.Variables.NODE_OPTIONS, '--enable-source-maps');
      assert.equal(p.Environment.Variables.NEXCHAT_STAGE, 'dev');
      const logGroup = res(referencedId(p.LoggingConfig?.LogGroup) ?? '(none)');
      assert.equal(logGroup.Type, 'AWS::Logs::LogGroup');
      assert.ok(logGroup.Properties.RetentionInDays > 0, 'log group has a retention period');
    });
  }
});

describe('gateway routes', () => {
  /** Route key -> the function logical id its integration invokes, for one API. */
  function routesOf(api: IConstruct): Map<string, string | undefined> {
    const apiId = logicalId(api);
    return new Map(
      ofType('AWS::ApiGatewayV2::Route')
        .filter(([, r]) => referencedId(r.Properties.ApiId) === apiId)
        .map(([, r]) => {
          const integration = res(referencedId(r.Properties.Target) ?? '(no target)');
          return [r.Properties.RouteKey as string, referencedId(integration.Properties.IntegrationUri)];
        }),
    );
  }

  it('HTTP API: exactly the manifest routes, each invoking its own function', () => {
    const actual = routesOf(stack.httpApi);
    assert.deepEqual(new Map(httpRoutes.map((r) => [httpRouteKey(r), functionId(r)])), actual);
  });

  it('WebSocket API: exactly the manifest routes, each invoking its own function, selected by body.action', () => {
    const actual = routesOf(stack.webSocketApi);
    assert.deepEqual(new Map(wsRoutes.map((r) => [r.routeKey, functionId(r)])), actual);
    assert.equal(res(logicalId(stack.webSocketApi)).Properties.RouteSelectionExpression, '$request.body.action');
    for (const key of ['$connect', '$disconnect', '$default']) assert.ok(actual.has(key), `${key} route exists`);
  });
});

describe('stages', () => {
  const stages = () =>
    [
      { name: 'HTTP', api: stack.httpApi, stage: res(logicalId(stack.httpStage)), keys: httpRoutes.map((r) => [httpRouteKey(r), r] as const) },
      { name: 'WebSocket', api: stack.webSocketApi, stage: res(logicalId(stack.webSocketStage)), keys: wsRoutes.map((r) => [r.routeKey, r] as const) },
    ] as const;

  it('default throttle equals stageThrottle on both stages', () => {
    for (const { name, stage } of stages()) {
      const d = stage.Properties.DefaultRouteSettings;
      assert.deepEqual({ ThrottlingRateLimit: d.ThrottlingRateLimit, ThrottlingBurstLimit: d.ThrottlingBurstLimit }, throttleSettings(stageThrottle), name);
    }
  });

  it("every route's throttle equals the manifest's, and routes exist before their settings", () => {
    for (const { name, api, stage, keys } of stages()) {
      const settings = stage.Properties.RouteSettings as Record<string, Json>;
      assert.deepEqual(Object.keys(settings).sort(), keys.map(([k]) => k).sort(), `${name}: a setting per manifest route`);
      const dependsOn = asArray(stage.DependsOn);
      for (const [key, route] of keys) {
        const s = settings[key];
        assert.deepEqual({ ThrottlingRateLimit: s.ThrottlingRateLimit, ThrottlingBurstLimit: s.ThrottlingBurstLimit }, throttleSettings(route.throttle), `${name} ${key}`);
        const routeId = ofType('AWS::ApiGatewayV2::Route').find(
          ([, r]) => r.Properties.RouteKey === key && referencedId(r.Properties.ApiId) === logicalId(api),
        )?.[0];
        assert.ok(routeId && dependsOn.includes(routeId), `${name} stage depends on route ${key}`);
      }
    }
  });

  it('both stages write JSON access logs to a log group with retention', () => {
    for (const { name, stage } of stages()) {
      const settings = stage.Properties.AccessLogSettings;
      assert.ok(settings, `${name} stage has access logging`);
      const logGroup = res(referencedId(settings.DestinationArn) ?? '(none)');
      assert.equal(logGroup.Type, 'AWS::Logs::LogGroup', name);
      assert.ok(logGroup.Properties.RetentionInDays > 0, `${name} access log retention`);
      const format = JSON.parse(settings.Format) as Record<string, string>;
      assert.equal(format.requestId, '$context.requestId', `${name} log lines carry the request id`);
    }
  });
});

// ---- tables ---------------------------------------------------------------------------------------

describe('tables', () => {
  it('one table per definition', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', tables.length);
  });

  for (const def of tables) {
    it(`${def.id}: on-demand, PITR, deletion protection, SSE, retained, keys/TTL/GSIs as defined`, () => {
      const t = res(logicalId(stack.tables[def.id]));
      const p = t.Properties;
      assert.equal(p.BillingMode, 'PAY_PER_REQUEST');
      assert.deepEqual(p.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
      assert.equal(p.DeletionProtectionEnabled, true);
      assert.equal(p.SSESpecification?.SSEEnabled, true);
      assert.equal(t.DeletionPolicy, 'Retain');
      assert.equal(t.UpdateReplacePolicy, 'Retain');
      assert.equal(p.TableName, undefined, 'no hard-coded table name');
      assert.deepEqual(p.KeySchema, [
        { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: def.sortKey.name, KeyType: 'RANGE' },
      ]);
      assert.deepEqual(p.TimeToLiveSpecification, def.ttlAttribute ? { AttributeName: def.ttlAttribute, Enabled: true } : undefined);
      const expectedIndexes = def.indexes.map((i) => ({
        IndexName: i.name,
        KeySchema: [
          { AttributeName: i.partitionKey.name, KeyType: 'HASH' },
          ...(i.sortKey ? [{ AttributeName: i.sortKey.name, KeyType: 'RANGE' }] : []),
        ],
        Projection: { ProjectionType: 'ALL' },
      }));
      assert.deepEqual(p.GlobalSecondaryIndexes ?? [], expectedIndexes);
    });
  }
});

// ---- least privilege ------------------------------------------------------------------------------

describe('least privilege', () => {
  it('the grant checker flags wildcard and foreign resources (so the checks below can fail)', () => {
    const wild = dynamoAccess([{ Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: '*' }]);
    assert.equal(wild.problems.length, 1);
    const star = dynamoAccess([{ Effect: 'Allow', Action: '*', Resource: { 'Fn::GetAtt': ['UsersTable', 'Arn'] } }]);
    assert.deepEqual([...star.tables.get('UsersTable')!], ['*']);
    const other = dynamoAccess([
      { Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['KeysTable', 'Arn'] }, '/index/*']] } },
      { Effect: 'Deny', Action: ['dynamodb:PutItem'], Resource: '*' },
    ]);
    assert.deepEqual([...other.tables.keys()], ['KeysTable']);
    assert.equal(other.problems.length, 0);
  });

  for (const route of allRoutes) {
    it(`${route.id}: DynamoDB on exactly ${JSON.stringify(route.tables)}, nothing wider`, () => {
      const access = dynamoAccess(roleStatements(route));
      assert.deepEqual(access.problems, [], 'no DynamoDB action on a wildcard or non-table resource');
      const byId = tableIds();
      const granted = new Map([...access.tables].map(([id, actions]) => [byId.get(id) ?? `not a table: ${id}`, actions]));
      const expected = Object.entries(route.tables).filter(([, g]) => g);
      assert.deepEqual([...granted.keys()].sort(), expected.map(([t]) => t).sort());
      for (const [tableId, grant] of expected) {
        const actions = granted.get(tableId)!;
        const writes = [...actions].filter((a) => !DYNAMO_READ_ACTIONS.has(a));
        assert.ok(actions.has('dynamodb:GetItem') && actions.has('dynamodb:Query'), `${tableId}: can read`);
        if (grant === 'readwrite') assert.ok(writes.includes('dynamodb:PutItem') && writes.includes('dynamodb:DeleteItem'), `${tableId}: can write`);
        else assert.deepEqual(writes, [], `${tableId}: read-only`);
      }
    });

    it(`${route.id}: table env vars only for granted tables`, () => {
      const vars = Object.keys(res(functionId(route)).Properties.Environment.Variables);
      const tableVars = new Set(tables.map((t) => t.envVar));
      const expected = tables.filter((t) => route.tables[t.id]).map((t) => t.envVar);
      assert.deepEqual(vars.filter((v) => tableVars.has(v)).sort(), expected.sort());
    });

    it(`${route.id}: ManageConnections ${route.manageConnections ? 'on this stage\'s @connections only' : 'not granted'}`, () => {
      const statements = roleStatements(route).filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('execute-api:')));
      const vars = res(functionId(route)).Properties.Environment.Variables;
      if (!route.manageConnections) {
        assert.deepEqual(statements, []);
        assert.equal(vars[WS_CALLBACK_URL_ENV], undefined);
        return;
      }
      assert.equal(statements.length, 1);
      const st = statements[0];
      assert.deepEqual(asArray(st.Action), ['execute-api:ManageConnections']);
      const [resource] = asArray<Json>(st.Resource);
      assert.equal(referencedId(resource), logicalId(stack.webSocketApi), 'scoped to our WebSocket API');
      assert.ok(JSON.stringify(resource).endsWith(`/${stack.stage}/*/@connections/*"]]}`), 'scoped to this stage\'s @connections');
      assert.ok(vars[WS_CALLBACK_URL_ENV], 'WS_CALLBACK_URL is set');
    });

    it(`${route.id}: secrets ${route.secrets?.length ? JSON.stringify(route.secrets) : 'none'}`, () => {
      const secretStatements = roleStatements(route).filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('secretsmanager:')));
      const vars = res(functionId(route)).Properties.Environment.Variables;
      for (const [id, envVar] of Object.entries(secretEnvVars)) {
        const listed = (route.secrets ?? []).includes(id as keyof typeof secretEnvVars);
        assert.equal(envVar in vars, listed, `${envVar} set iff ${id} is listed`);
      }
      assert.equal(secretStatements.length > 0, Boolean(route.secrets?.length));
    });
  }

  it('no DynamoDB grant anywhere in the stack uses a wildcard resource', () => {
    const all = ofType('AWS::IAM::Policy').flatMap(([, p]) => asArray<Json>(p.Properties.PolicyDocument.Statement));
    assert.deepEqual(dynamoAccess(all).problems, []);
  });
});

// ---- stage isolation and secrets --------------------------------------------------------------------

describe('stage isolation', () => {
  it('no hard-coded physical names, so two stages can coexist', () => {
    const nameProps: Record<string, string> = {
      'AWS::DynamoDB::Table': 'TableName',
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::Logs::LogGroup': 'LogGroupName',
      'AWS::IAM::Role': 'RoleName',
      'AWS::SecretsManager::Secret': 'Name',
    };
    for (const [id, r] of Object.entries(resources)) {
      const prop = nameProps[r.Type];
      if (prop) assert.equal(r.Properties?.[prop], undefined, `${id} has no ${prop}`);
    }
  });

  it('the auth secret is generated, never a value in the template', () => {
    const secrets = ofType('AWS::SecretsManager::Secret');
    assert.equal(secrets.length, 1);
    const [, secret] = secrets[0]!;
    assert.ok(secret.Properties.GenerateSecretString, 'generated by Secrets Manager');
    assert.equal(secret.Properties.SecretString, undefined);
  });

  it('another stage synthesizes as its own stack with its own WebSocket stage', () => {
    const prod = buildApp({ stage: 'prod' });
    assert.equal(prod.stack.stackName, 'NexChat-prod');
    const stage = Template.fromStack(prod.stack).findResources('AWS::ApiGatewayV2::Stage', { Properties: { StageName: 'prod' } });
    assert.equal(Object.keys(stage).length, 1);
    assert.throws(() => buildApp({ stage: 'Prod Stage' }), /context "stage" must match/);
  });
});

// ---- cdk-nag ------------------------------------------------------------------------------------------

interface Finding {
  readonly rule: string;
  readonly path: string;
  readonly severity: string;
}

/** What the nag packs report when every acknowledgement is ignored: the raw findings. */
function rawNagFindings(): Finding[] {
  const acknowledge = Validations.prototype.acknowledge;
  Validations.prototype.acknowledge = () => undefined;
  try {
    const { app } = buildApp();
    return [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
      pack.validateScope(app).violations.flatMap((v) =>
        v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath ?? '?', severity: v.severity ?? 'error' })),
      ),
    );
  } finally {
    Validations.prototype.acknowledge = acknowledge;
  }
}

interface Acknowledgement {
  readonly rule: string;
  readonly reason: string;
  readonly construct: IConstruct;
}

function acknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .map(([id, reason]) => ({ rule: id.replace(/^annotation::/i, ''), reason, construct })),
  );
}

describe('cdk-nag (AwsSolutions + Serverless)', () => {
  it('synthesis reports zero unsuppressed errors (and, today, zero warnings)', () => {
    assert.deepEqual(violationLines(validationReport, ['error', 'fatal']), []);
    assert.deepEqual(violationLines(validationReport, ['warning']), []);
  });

  it('the packs are wired in: a non-compliant resource fails synthesis', () => {
    const { app, stack: bad } = buildApp();
    new Queue(bad, 'UnencryptedQueueWithoutDlq');
    const consoleError = console.error;
    console.error = () => undefined; // the report is checked below, not printed
    let message = '';
    try {
      assert.throws(() => app.synth(), (e: Error) => ((message = e.message), /Validation failed/.test(e.message)));
    } finally {
      console.error = consoleError;
    }
    const reportPath = /\S+validation-report\.json/.exec(message)?.[0];
    assert.ok(reportPath, 'the error names the report');
    const report = readFileSync(reportPath, 'utf8');
    assert.match(report, /AwsSolutions-SQS3/);
    assert.match(report, /Serverless-SQSRedrivePolicy/);
  });

  it('every acknowledgement names one resource, one rule and a reason, and matches a real finding', () => {
    const raw = rawNagFindings();
    const acks = acknowledgements(built.app);
    assert.ok(acks.length > 0);
    for (const ack of acks) {
      const where = `${ack.rule} @ ${ack.construct.node.path}`;
      assert.ok(CfnResource.isCfnResource(ack.construct), `${where}: acknowledged on one CloudFormation resource`);
      assert.match(ack.rule, /^(AwsSolutions|Serverless)-[A-Za-z0-9]+(\[.+\])?$/, `${where}: one rule id`);
      assert.ok(ack.reason.length >= 40, `${where}: has a reason`);
      assert.ok(
        raw.some((f) => f.rule === ack.rule && f.path === ack.construct.node.path),
        `${where}: suppresses a real finding (not stale)`,
      );
    }
    const unacknowledged = raw.filter(
      (f) => f.severity === 'error' && !acks.some((a) => a.rule === f.rule && a.construct.node.path === f.path),
    );
    assert.deepEqual(unacknowledged, []);
  });
});
