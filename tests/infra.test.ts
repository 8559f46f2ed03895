// Infrastructure tests: synthesize the real app (esbuild bundling skipped for speed) and check that
// the template says what the manifest says: a function, a gateway route and a throttle per route;
// DynamoDB grants of exactly the read / read-write action lists on the table and Query on its own
// GSIs, never Scan; OTP sending for notify routes only; deployment settings from context, validated;
// durable tables; logged stages; the $connect ticket authorizer (its own function, uncached, the only
// gateway authorizer); cdk-nag clean, with every acknowledgement narrow (one resource, one rule, a
// reason) and matching a real finding. A second app adds synthetic routes (an OTP sender, an HTTP
// route that pushes to sockets) and the API Gateway account role, so those paths stay covered
// whatever the manifest holds.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { App, CfnResource, Stack, Token, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { readDeploymentSettings } from '../bin/nexchat.ts';
import {
  authorizerFunctionSpec,
  DEFAULT_MEMORY_MB,
  DEFAULT_TIMEOUT_SECONDS,
  RouteFunction,
  queueEnvVars,
  routeFunctionSpec,
  scheduledJobFunctionSpec,
  secretEnvVars,
  workerFunctionSpec,
  DEFAULT_MESSAGE_RETENTION_DAYS,
  WS_CALLBACK_URL_ENV,
  type FunctionSpec,
  type RouteResources,
} from '../lib/constructs/route-function.ts';
import {
  allRoutes,
  allScheduledJobs,
  allWorkers,
  ATTACHMENT_PREFIX,
  httpRouteKey,
  queueSettings,
  routes as manifest,
  stageThrottle,
  type BucketGrant,
  type BucketId,
  type HttpRoute,
  type Route,
  type Throttle,
  type WsRoute,
} from '../lib/routes.ts';
import { loadConfig } from '../functions/core/config.ts';
import { tables, type TableId } from '../lib/tables.ts';
import { ACCESS_LOG_PREFIX } from '../lib/nexchat-stack.ts';
import {
  acknowledgements,
  asArray,
  buildApp,
  cdkJson,
  FROM,
  isControlTowerAcknowledgement,
  logicalId,
  ofType,
  optionsContext,
  optionsRoutes,
  rawNagFindings,
  res,
  sorted,
  synthesize,
  syntheticNotifyRoute,
  syntheticPushRoute,
  violationLines,
  policyStatements,
  type CfnJson,
  type Json,
  type Synth,
  failedSynthReport,
  flattenedTemplate,
} from './support/cdk-app.ts';
import { explainTableDrift, SNAPSHOT_PATH, tableIdentity, tableSnapshotDiff, UPDATE_ENV, type TableSnapshot } from './support/table-snapshot.ts';

// ---- template plumbing --------------------------------------------------------------------------

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

// ---- the least-privilege checkers (unit-tested below, so they can be trusted to fail) -------------

/** The two grant levels, spelled out here rather than imported, so a change to either is a test failure. */
const READ_ACTIONS = sorted(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable']);
const READWRITE_ACTIONS = sorted([...READ_ACTIONS, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']);
const INDEX_ACTIONS = ['dynamodb:Query'];

interface TableAccess {
  /** Actions on the table ARN itself. */
  readonly table: Set<string>;
  /** Index name -> actions on `<table ARN>/index/<name>`. */
  readonly indexes: Map<string, Set<string>>;
}

interface DynamoAccess {
  /** Table logical id -> what is allowed on it and on its indexes. */
  readonly tables: Map<string, TableAccess>;
  /** Statements that grant DynamoDB actions on anything but a named table or a named index of one. */
  readonly problems: string[];
}

/** Which tables and indexes a set of IAM statements opens to DynamoDB actions, and what is too wide. */
function dynamoAccess(statements: Json[]): DynamoAccess {
  const access: DynamoAccess = { tables: new Map(), problems: [] };
  for (const st of statements) {
    if (st.Effect !== 'Allow') continue;
    const actions = asArray<string>(st.Action).filter((a) => actionCovers(a, 'dynamodb:GetItem') || a.toLowerCase().startsWith('dynamodb:'));
    if (actions.length === 0) continue;
    for (const resource of asArray<Json>(st.Resource)) {
      const target = dynamoTarget(resource);
      if (!target) {
        access.problems.push(`${actions.join(',')} on ${JSON.stringify(resource)}`);
        continue;
      }
      const entry = access.tables.get(target.table) ?? { table: new Set<string>(), indexes: new Map<string, Set<string>>() };
      access.tables.set(target.table, entry);
      let set = entry.table;
      if (target.index) {
        set = entry.indexes.get(target.index) ?? new Set<string>();
        entry.indexes.set(target.index, set);
      }
      for (const a of actions) set.add(a);
    }
  }
  return access;
}

/** Table logical id (and index name) when `resource` is a table's ARN or `<arn>/index/<one name>`; wildcards are not. */
function dynamoTarget(resource: Json): { table: string; index?: string } | undefined {
  const getAtt = (v: Json) => (Array.isArray(v?.['Fn::GetAtt']) && v['Fn::GetAtt'][1] === 'Arn' ? (v['Fn::GetAtt'][0] as string) : undefined);
  const direct = getAtt(resource);
  if (direct) return { table: direct };
  const join = resource?.['Fn::Join'];
  if (!Array.isArray(join) || join[0] !== '' || join[1].length !== 2) return undefined;
  const table = getAtt(join[1][0]);
  const index = /^\/index\/([A-Za-z0-9_.-]+)$/.exec(String(join[1][1]))?.[1];
  return table && index ? { table, index } : undefined;
}

/** Whether an IAM action pattern (`*` and `?` wildcards, case-insensitive) covers `action`. */
function actionCovers(pattern: string, action: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(action);
}

/** Allow statements whose actions include (by name or wildcard) `action`. */
function allowing(statements: Json[], action: string): Json[] {
  return statements.filter((s) => s.Effect === 'Allow' && asArray<string>(s.Action).some((a) => actionCovers(a, action)));
}

// ---- synthesized apps ----------------------------------------------------------------------------------

/** What the per-function checks read: a manifest route, or the function spec of a route authorizer. */
type Granted = Pick<FunctionSpec, 'id' | 'tables' | 'secrets' | 'manageConnections' | 'notify' | 'memoryMb' | 'timeoutSeconds' | 'buckets'>;

const functionId = (s: Synth, fn: Pick<Granted, 'id'>) => {
  const made = s.stack.functions[fn.id];
  assert.ok(made, `the stack made a function for ${fn.id}`);
  return logicalId(s, made.function);
};
const envOf = (s: Synth, fn: Granted): Record<string, Json> => res(s, functionId(s, fn)).Properties.Environment.Variables;
const tableIds = (s: Synth) => new Map(tables.map((t) => [logicalId(s, s.stack.tables[t.id]), t.id] as [string, TableId]));
/** What invokes a function: its `live` alias (integrations, authorizers, event sources and permissions name it). */
const aliasId = (s: Synth, fn: Pick<Granted, 'id'>) => {
  const made = s.stack.functions[fn.id];
  assert.ok(made, `the stack made a function for ${fn.id}`);
  return logicalId(s, made.live);
};
/** Every IAM statement in the template: AWS::IAM::Policy resources and roles' inline policies (function grants are inline). */
const allStatements = (s: Synth) => policyStatements(s.resources);

/** Every statement the function's role is allowed: its inline policies and attached AWS::IAM::Policy. */
function roleStatements(s: Synth, route: Granted): Json[] {
  const roleId = referencedId(res(s, functionId(s, route)).Properties.Role);
  assert.ok(roleId, `${route.id} has a role`);
  const role = res(s, roleId);
  assert.equal(role.Properties.ManagedPolicyArns, undefined, `${route.id}: no managed policies on the role`);
  return policyStatements(s.resources, roleId);
}

/** The authorizer functions the routes call for: WebSocket routes with an `authorizer`. */
const authorizersOf = (routes: readonly Route[]) =>
  routes.flatMap((r) => (r.kind === 'ws' && r.authorizer ? [{ route: r, authorizer: r.authorizer, spec: authorizerFunctionSpec(r, r.authorizer) }] : []));
const manifestAuthorizers = authorizersOf(allRoutes);
/** The functions of the manifest's scheduled jobs (the stack adds their EventBridge rules). */
const jobSpecs = allScheduledJobs.map(scheduledJobFunctionSpec);

let main: Synth;
let opts: Synth;

before(() => {
  main = synthesize(buildApp(), allRoutes);
  opts = synthesize(buildApp(optionsContext, optionsRoutes), optionsRoutes);
});

const apps = () => [
  { name: 'manifest app', s: main },
  { name: 'options app', s: opts },
];

// ---- queues ----------------------------------------------------------------------------------------

describe('queues', () => {
  for (const id of ['otp', 'presence'] as const) {
    it(`${id}: an encrypted, TLS-only queue with a dead-letter queue after 3 attempts, and an alarm on it`, () => {
      const queueId = logicalId(main, main.stack.queues[id].queue);
      const dlqId = logicalId(main, main.stack.queues[id].deadLetters);
      const queue = res(main, queueId).Properties;
      assert.equal(queue.SqsManagedSseEnabled, true);
      assert.equal(queue.MessageRetentionPeriod, queueSettings[id].retentionMinutes * 60);
      assert.deepEqual(queue.RedrivePolicy, { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 3 });
      const worker = allWorkers.find((w) => w.queue === id)!;
      assert.equal(queue.VisibilityTimeout, 6 * (worker.timeoutSeconds ?? 10), "six times its consumer's timeout");
      assert.equal(res(main, dlqId).Properties.SqsManagedSseEnabled, true);
      const tlsOnly = ofType(main, 'AWS::SQS::QueuePolicy').filter(
        ([, p]) =>
          [queueId, dlqId].includes(referencedId(asArray<Json>(p.Properties.Queues)[0]) ?? '') &&
          asArray<Json>(p.Properties.PolicyDocument.Statement).some(
            (st) => st.Effect === 'Deny' && JSON.stringify(st.Condition).includes('aws:SecureTransport'),
          ),
      );
      assert.equal(tlsOnly.length, 2, 'the queue and its dead-letter queue refuse plain HTTP');
      const alarm = res(main, logicalId(main, main.stack.queues[id].alarm)).Properties;
      assert.equal(alarm.MetricName, 'ApproximateNumberOfMessagesVisible');
      assert.deepEqual(alarm.Dimensions, [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }]);
      assert.equal(alarm.Threshold, 1);
    });
  }

  it('four queues in all (two and their dead-letter queues), every one TLS-only', () => {
    main.template.resourceCountIs('AWS::SQS::Queue', 4);
    const tlsOnly = ofType(main, 'AWS::SQS::QueuePolicy').filter(([, p]) =>
      asArray<Json>(p.Properties.PolicyDocument.Statement).some((st) => st.Effect === 'Deny' && JSON.stringify(st.Condition).includes('aws:SecureTransport')),
    );
    assert.equal(tlsOnly.length, 4);
  });

  it('each worker consumes its queue with partial batch failures; only the listed routes may send to a queue', () => {
    const mappings = ofType(main, 'AWS::Lambda::EventSourceMapping');
    assert.equal(mappings.length, allWorkers.length);
    for (const worker of allWorkers) {
      const queueId = logicalId(main, main.stack.queues[worker.queue].queue);
      const mapping = mappings.find(([, m]) => JSON.stringify(m.Properties.FunctionName).includes(`{"Ref":"${aliasId(main, worker)}"}`))?.[1].Properties;
      assert.ok(mapping, `${worker.id} has an event source`);
      assert.ok(JSON.stringify(mapping.FunctionName).endsWith(':live"]]}'), `${worker.id}: the worker's live alias`);
      assert.deepEqual(mapping.EventSourceArn, { 'Fn::GetAtt': [queueId, 'Arn'] });
      assert.deepEqual(mapping.FunctionResponseTypes, ['ReportBatchItemFailures']);
    }
    for (const route of allRoutes) {
      const sends = allowing(roleStatements(main, route), 'sqs:SendMessage');
      const queues = route.enqueue ?? [];
      assert.equal(sends.length > 0, queues.length > 0, `${route.id}: sqs:SendMessage ${queues.length ? 'granted' : 'not granted'}`);
      const allowed = queues.map((id) => logicalId(main, main.stack.queues[id].queue));
      assert.ok(
        sends.every((st) => asArray<Json>(st.Resource).every((r) => allowed.includes(referencedId(r) ?? ''))),
        `${route.id}: on its own queues only`,
      );
      for (const id of ['otp', 'presence'] as const) {
        assert.equal(envOf(main, route)[queueEnvVars[id]] !== undefined, queues.includes(id), `${route.id}: ${queueEnvVars[id]}`);
      }
    }
    const senders = (id: 'otp' | 'presence') =>
      allRoutes
        .filter((r) => r.enqueue?.includes(id))
        .map((r) => r.id)
        .sort();
    assert.deepEqual(senders('otp'), ['Login', 'RequestOtp'], 'the routes that issue codes');
    assert.deepEqual(senders('presence'), ['WsDisconnect'], "the route that closes a user's last socket");
  });
});

// ---- functions and routes -------------------------------------------------------------------------

describe('functions', () => {
  it('one Lambda per route, per route authorizer, per queue worker and per scheduled job, nothing else', () => {
    assert.ok(manifestAuthorizers.length > 0, 'the manifest has an authorizer (so the authorizer checks below can fail)');
    // + 1: the API Gateway account-role custom resource (tests/infra/operations.test.ts).
    const functions = manifestAuthorizers.length + allWorkers.length + allScheduledJobs.length + 1;
    main.template.resourceCountIs('AWS::Lambda::Function', allRoutes.length + functions);
    opts.template.resourceCountIs('AWS::Lambda::Function', allRoutes.length + 2 + functions);
    assert.deepEqual(
      sorted(Object.keys(main.stack.functions)),
      sorted([
        ...allRoutes.map((r) => r.id),
        ...manifestAuthorizers.map((a) => a.spec.id),
        ...allWorkers.map((w) => w.id),
        ...allScheduledJobs.map((j) => j.id),
      ]),
    );
  });

  for (const route of [...allRoutes, syntheticNotifyRoute, ...manifestAuthorizers.map((a) => a.spec), ...jobSpecs]) {
    it(`${route.id}: nodejs24.x on arm64, traced, sized (${route.memoryMb ?? DEFAULT_MEMORY_MB} MB), with its own log group`, () => {
      const s = route === syntheticNotifyRoute ? opts : main;
      const p = res(s, functionId(s, route)).Properties;
      assert.equal(p.Runtime, 'nodejs24.x');
      assert.deepEqual(p.Architectures, ['arm64']);
      assert.deepEqual(p.TracingConfig, { Mode: 'Active' });
      assert.equal(p.MemorySize, route.memoryMb ?? DEFAULT_MEMORY_MB);
      assert.equal(p.Timeout, route.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS);
      assert.equal(p.Handler, 'index.handler');
      assert.equal(p.Environment.Variables.NODE_OPTIONS, '--enable-source-maps');
      assert.equal(p.Environment.Variables.NEXCHAT_STAGE, s.stack.stage);
      assert.deepEqual([p.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE, p.Environment.Variables.POWERTOOLS_SERVICE_NAME], ['NexChat', 'nexchat']);
      const logGroup = res(s, referencedId(p.LoggingConfig?.LogGroup) ?? '(none)');
      assert.equal(logGroup.Type, 'AWS::Logs::LogGroup');
      assert.ok(logGroup.Properties.RetentionInDays > 0, 'log group has a retention period');
    });
  }

  it('the synthetic route really is sized off the defaults (so the sizing check above can fail)', () => {
    assert.notEqual(syntheticNotifyRoute.memoryMb, DEFAULT_MEMORY_MB);
    assert.equal(res(opts, functionId(opts, syntheticNotifyRoute)).Properties.MemorySize, 512);
  });
});

describe('gateway routes', () => {
  /** Route key -> the function logical id its integration invokes, for one API. */
  function routesOf(s: Synth, api: IConstruct): Map<string, string | undefined> {
    const apiId = logicalId(s, api);
    return new Map(
      ofType(s, 'AWS::ApiGatewayV2::Route')
        .filter(([, r]) => referencedId(r.Properties.ApiId) === apiId)
        .map(([, r]) => {
          const integration = res(s, referencedId(r.Properties.Target) ?? '(no target)');
          return [r.Properties.RouteKey as string, referencedId(integration.Properties.IntegrationUri)];
        }),
    );
  }
  const http = (s: Synth) => s.routes.filter((r): r is HttpRoute => r.kind === 'http');
  const ws = (s: Synth) => s.routes.filter((r): r is WsRoute => r.kind === 'ws');
  /** The gateway route resource for a manifest route. */
  function gatewayRoute(s: Synth, route: Route): CfnJson {
    const api = logicalId(s, route.kind === 'http' ? s.stack.httpApi : s.stack.webSocketApi);
    const key = route.kind === 'http' ? httpRouteKey(route) : route.routeKey;
    const found = ofType(s, 'AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties.RouteKey === key && referencedId(r.Properties.ApiId) === api);
    assert.equal(found.length, 1, `one gateway route for ${key}`);
    return found[0]![1];
  }

  it("HTTP API: exactly the routes, each invoking its own function's live alias", () => {
    for (const { name, s } of apps()) {
      assert.deepEqual(new Map(http(s).map((r) => [httpRouteKey(r), aliasId(s, r)])), routesOf(s, s.stack.httpApi), name);
    }
  });

  it("WebSocket API: exactly the manifest routes, each invoking its own function's live alias, selected by body.action", () => {
    const actual = routesOf(main, main.stack.webSocketApi);
    const expected = main.routes.flatMap((r) => (r.kind === 'ws' ? [[r.routeKey, aliasId(main, r)] as const] : []));
    assert.deepEqual(new Map(expected), actual);
    assert.equal(res(main, logicalId(main, main.stack.webSocketApi)).Properties.RouteSelectionExpression, '$request.body.action');
    for (const key of ['$connect', '$disconnect', '$default']) assert.ok(actual.has(key), `${key} route exists`);
  });

  it("$connect has the manifest's ticket authorizer, as a Lambda REQUEST authorizer on ?ticket", () => {
    assert.deepEqual(
      manifestAuthorizers.map((a) => [a.route.routeKey, a.authorizer.queryParameter]),
      [['$connect', 'ticket']],
      'one authorizer, on $connect, identified by the ticket query parameter',
    );
    assert.equal(manifest.wsConnect.authorizer?.id, 'WsTicketAuthorizer');
  });

  for (const { name, s } of [
    { name: 'manifest app', s: () => main },
    { name: 'options app', s: () => opts },
  ]) {
    it(`${name}: each authorizer is one uncached REQUEST authorizer on the WebSocket API, invoking its own function`, () => {
      const authorizers = ofType(s(), 'AWS::ApiGatewayV2::Authorizer');
      const expected = authorizersOf(s().routes);
      assert.equal(authorizers.length, expected.length);
      for (const { authorizer, spec } of expected) {
        const liveId = aliasId(s(), spec);
        const matching = authorizers.filter(([, a]) => JSON.stringify(a.Properties.AuthorizerUri).includes(`"${liveId}"`));
        assert.equal(matching.length, 1, `one authorizer invokes ${spec.id}`);
        const p = matching[0]![1].Properties;
        assert.equal(referencedId(p.ApiId), logicalId(s(), s().stack.webSocketApi), 'on the WebSocket API');
        assert.equal(p.AuthorizerType, 'REQUEST');
        assert.deepEqual(p.IdentitySource, [`route.request.querystring.${authorizer.queryParameter}`]);
        assert.match(JSON.stringify(p.AuthorizerUri), /:lambda:path\/2015-03-31\/functions\/.*\/invocations/);
        // A cached Allow would let a used ticket in again; WebSocket authorizers have no cache, and none is asked for.
        assert.equal(p.AuthorizerResultTtlInSeconds, undefined, 'no result caching');
        assert.equal(p.AuthorizerCredentialsArn, undefined, 'invoked through a resource policy, not a role');
      }
    });

    it(`${name}: $connect is CUSTOM-authorized by it; no other WebSocket or HTTP route has a gateway authorizer`, () => {
      const authorizerIds = new Set(ofType(s(), 'AWS::ApiGatewayV2::Authorizer').map(([id]) => id));
      for (const route of s().routes) {
        const p = gatewayRoute(s(), route).Properties;
        const authorized = route.kind === 'ws' && route.authorizer !== undefined;
        if (authorized) {
          assert.equal(route.routeKey, '$connect');
          assert.equal(p.AuthorizationType, 'CUSTOM', `${route.id}: CUSTOM`);
          const id = referencedId(p.AuthorizerId);
          assert.ok(id && authorizerIds.has(id), `${route.id}: names the authorizer`);
          const liveId = aliasId(s(), authorizerFunctionSpec(route, route.authorizer!));
          assert.ok(JSON.stringify(res(s(), id).Properties.AuthorizerUri).includes(`"${liveId}"`), `${route.id}: its own authorizer function`);
        } else {
          assert.ok(p.AuthorizationType === undefined || p.AuthorizationType === 'NONE', `${route.id}: no gateway authorization`);
          assert.equal(p.AuthorizerId, undefined, `${route.id}: no authorizer`);
        }
      }
      assert.ok(
        ws(s()).some((r) => r.routeKey !== '$connect'),
        'there are WebSocket routes besides $connect',
      );
    });

    it(`${name}: API Gateway may invoke each authorizer function, from its authorizer only; no route integrates it`, () => {
      for (const { spec } of authorizersOf(s().routes)) {
        const liveId = aliasId(s(), spec);
        const permissions = ofType(s(), 'AWS::Lambda::Permission').filter(([, perm]) => referencedId(perm.Properties.FunctionName) === liveId);
        assert.equal(permissions.length, 1, `${spec.id}: one invoke permission`);
        const p = permissions[0]![1].Properties;
        assert.equal(p.Action, 'lambda:InvokeFunction');
        assert.equal(p.Principal, 'apigateway.amazonaws.com');
        const sourceArn = JSON.stringify(p.SourceArn);
        assert.ok(sourceArn.includes(`{"Ref":"${logicalId(s(), s().stack.webSocketApi)}"}`), 'from our WebSocket API');
        const authorizerId = ofType(s(), 'AWS::ApiGatewayV2::Authorizer').find(([, a]) =>
          JSON.stringify(a.Properties.AuthorizerUri).includes(`"${liveId}"`),
        )?.[0];
        assert.ok(authorizerId && sourceArn.includes(`"/authorizers/",{"Ref":"${authorizerId}"}`), `from ${spec.id}'s authorizer: ${sourceArn}`);
        const integrations = ofType(s(), 'AWS::ApiGatewayV2::Integration').filter(([, i]) => referencedId(i.Properties.IntegrationUri) === liveId);
        assert.deepEqual(integrations, [], `${spec.id} is no route's integration`);
      }
    });
  }

  it('authorizers are checked at synth: $connect only, a valid parameter name, and a signed-in $connect must have one', () => {
    const connect = manifest.wsConnect;
    const others = allRoutes.filter((r) => r !== connect);
    const typing = { ...manifest.typing, authorizer: connect.authorizer } as WsRoute;
    assert.throws(
      () => buildApp({}, [...others.filter((r) => r !== manifest.typing), connect, typing]),
      /WsTyping: API Gateway runs WebSocket authorizers on \$connect only/,
    );
    const badName = { ...connect, authorizer: { ...connect.authorizer, queryParameter: 'ticket id' } } as WsRoute;
    assert.throws(() => buildApp({}, [...others, badName]), /not a valid API Gateway identity source name/);
    const { authorizer: _, ...unauthorized } = connect;
    assert.throws(() => buildApp({}, [...others, unauthorized as WsRoute]), /WsConnect: a \$connect with access "user" needs an authorizer/);
    const publicConnect = { ...unauthorized, access: 'public' } as WsRoute;
    assert.doesNotThrow(() => buildApp({}, [...others, publicConnect]), 'a public $connect may go without');
  });
});

describe('stages', () => {
  const stages = (s: Synth) =>
    [
      {
        name: 'HTTP',
        api: s.stack.httpApi,
        stage: res(s, logicalId(s, s.stack.httpStage)),
        keys: s.routes.filter((r): r is HttpRoute => r.kind === 'http').map((r) => [httpRouteKey(r), r] as const),
      },
      {
        name: 'WebSocket',
        api: s.stack.webSocketApi,
        stage: res(s, logicalId(s, s.stack.webSocketStage)),
        keys: s.routes.flatMap((r) => (r.kind === 'ws' ? [[r.routeKey, r] as const] : [])),
      },
    ] as const;

  it('default throttle equals stageThrottle on both stages', () => {
    for (const { name, stage } of stages(main)) {
      const d = stage.Properties.DefaultRouteSettings;
      assert.deepEqual({ ThrottlingRateLimit: d.ThrottlingRateLimit, ThrottlingBurstLimit: d.ThrottlingBurstLimit }, throttleSettings(stageThrottle), name);
    }
  });

  it("every route's throttle equals the manifest's, and routes exist before their settings", () => {
    for (const { s } of apps()) {
      for (const { name, api, stage, keys } of stages(s)) {
        const settings = stage.Properties.RouteSettings as Record<string, Json>;
        assert.deepEqual(Object.keys(settings).sort(), keys.map(([k]) => k).sort(), `${name}: a setting per route`);
        const dependsOn = asArray(stage.DependsOn);
        for (const [key, route] of keys) {
          const setting = settings[key];
          assert.deepEqual(
            { ThrottlingRateLimit: setting.ThrottlingRateLimit, ThrottlingBurstLimit: setting.ThrottlingBurstLimit },
            throttleSettings(route.throttle),
            `${name} ${key}`,
          );
          const routeId = ofType(s, 'AWS::ApiGatewayV2::Route').find(
            ([, r]) => r.Properties.RouteKey === key && referencedId(r.Properties.ApiId) === logicalId(s, api),
          )?.[0];
          assert.ok(routeId && dependsOn.includes(routeId), `${name} stage depends on route ${key}`);
        }
      }
    }
  });

  it('both stages write JSON access logs to a log group with retention', () => {
    for (const { name, stage } of stages(main)) {
      const settings = stage.Properties.AccessLogSettings;
      assert.ok(settings, `${name} stage has access logging`);
      const logGroup = res(main, referencedId(settings.DestinationArn) ?? '(none)');
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
    main.template.resourceCountIs('AWS::DynamoDB::Table', tables.length);
  });

  for (const def of tables) {
    it(`${def.id}: on-demand, PITR, SSE, retained except on a failed create, keys/TTL/GSIs as defined`, () => {
      const t = res(main, logicalId(main, main.stack.tables[def.id]));
      const p = t.Properties;
      assert.equal(p.BillingMode, 'PAY_PER_REQUEST');
      assert.deepEqual(p.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
      assert.equal(p.DeletionProtectionEnabled, false, 'outside prod: a failed first create must be able to roll back');
      assert.equal(p.SSESpecification?.SSEEnabled, true);
      assert.equal(t.DeletionPolicy, 'RetainExceptOnCreate', 'kept on stack delete, removed when a failed create rolls back');
      assert.equal(t.UpdateReplacePolicy, 'Retain', 'kept when an update replaces it');
      assert.equal(p.TableName, undefined, 'no hard-coded table name');
      assert.deepEqual(p.KeySchema, [
        { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: def.sortKey.name, KeyType: 'RANGE' },
      ]);
      assert.deepEqual(p.TimeToLiveSpecification, def.ttlAttribute ? { AttributeName: def.ttlAttribute, Enabled: true } : undefined);
      const expectedIndexes = def.indexes.map((i) => ({
        IndexName: i.name,
        KeySchema: [{ AttributeName: i.partitionKey.name, KeyType: 'HASH' }, ...(i.sortKey ? [{ AttributeName: i.sortKey.name, KeyType: 'RANGE' }] : [])],
        Projection: { ProjectionType: 'ALL' },
      }));
      assert.deepEqual(p.GlobalSecondaryIndexes ?? [], expectedIndexes);
    });
  }
});

// ---- least privilege ------------------------------------------------------------------------------

describe('least privilege', () => {
  it('the grant checker flags wildcard resources and index wildcards, and tells tables from indexes', () => {
    const wild = dynamoAccess([{ Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: '*' }]);
    assert.equal(wild.problems.length, 1);
    const indexWildcard = dynamoAccess([
      { Effect: 'Allow', Action: 'dynamodb:Query', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['UsersTable', 'Arn'] }, '/index/*']] } },
    ]);
    assert.equal(indexWildcard.problems.length, 1, '/index/* is a wildcard, not a named index');
    const star = dynamoAccess([{ Effect: 'Allow', Action: '*', Resource: { 'Fn::GetAtt': ['UsersTable', 'Arn'] } }]);
    assert.deepEqual([...star.tables.get('UsersTable')!.table], ['*'], 'a bare * counts as a DynamoDB action');
    const named = dynamoAccess([
      { Effect: 'Allow', Action: ['dynamodb:Query'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['KeysTable', 'Arn'] }, '/index/byUser']] } },
      { Effect: 'Deny', Action: ['dynamodb:PutItem'], Resource: '*' },
    ]);
    assert.equal(named.problems.length, 0);
    assert.deepEqual([...named.tables.get('KeysTable')!.table], []);
    assert.deepEqual([...named.tables.get('KeysTable')!.indexes.get('byUser')!], ['dynamodb:Query']);
  });

  it('the Scan detector sees Scan behind wildcards and ignores Deny', () => {
    for (const pattern of ['dynamodb:Scan', 'dynamodb:*', 'DynamoDB:S*', 'dynamodb:Sca?', '*']) {
      assert.equal(allowing([{ Effect: 'Allow', Action: [pattern], Resource: '*' }], 'dynamodb:Scan').length, 1, pattern);
    }
    assert.equal(allowing([{ Effect: 'Allow', Action: ['dynamodb:Query', 'dynamodb:BatchGetItem'], Resource: '*' }], 'dynamodb:Scan').length, 0);
    assert.equal(allowing([{ Effect: 'Deny', Action: ['dynamodb:Scan'], Resource: '*' }], 'dynamodb:Scan').length, 0);
  });

  it('no policy in either stack allows dynamodb:Scan', () => {
    for (const { name, s } of apps()) assert.deepEqual(allowing(allStatements(s), 'dynamodb:Scan'), [], name);
  });

  it('no DynamoDB grant anywhere uses a wildcard resource or a wildcard index', () => {
    for (const { name, s } of apps()) assert.deepEqual(dynamoAccess(allStatements(s)).problems, [], name);
  });

  it('the authorizer function: read-write on the ephemeral table (tickets), read on users and sessions (is the session alive?), logs and X-Ray, nothing else', () => {
    for (const { spec } of manifestAuthorizers) {
      assert.deepEqual(spec.tables, { ephemeral: 'readwrite', users: 'read', sessions: 'read' }, `${spec.id}: the manifest's grants`);
      const statements = roleStatements(main, spec);
      assert.deepEqual(allowing(statements, 'dynamodb:Scan'), [], 'no Scan');
      const access = dynamoAccess(statements);
      assert.deepEqual(access.problems, []);
      const id = (t: 'ephemeral' | 'users' | 'sessions') => logicalId(main, main.stack.tables[t]);
      assert.deepEqual([...access.tables.keys()].sort(), [id('ephemeral'), id('users'), id('sessions')].sort(), 'those three tables only');
      assert.deepEqual(sorted(access.tables.get(id('ephemeral'))!.table), READWRITE_ACTIONS, 'read-write on tickets, spelled out');
      assert.deepEqual(sorted(access.tables.get(id('users'))!.table), READ_ACTIONS, 'read only on users');
      assert.deepEqual(sorted(access.tables.get(id('sessions'))!.table), READ_ACTIONS, 'read only on sessions');
      const actions = new Set(statements.filter((st) => st.Effect === 'Allow').flatMap((st) => asArray<string>(st.Action)));
      const allowed = new Set([
        ...READWRITE_ACTIONS,
        'dynamodb:Query',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
      ]);
      assert.deepEqual(
        [...actions].filter((a) => !allowed.has(a)),
        [],
        'no secrets, @connections or messaging',
      );
      const vars = envOf(main, spec);
      assert.equal(vars.EPHEMERAL_TABLE !== undefined, true);
      assert.equal(vars[WS_CALLBACK_URL_ENV], undefined);
      assert.equal(vars[secretEnvVars.auth], undefined);
    }
  });

  it('routes that push to sockets get ManageConnections and WS_CALLBACK_URL whatever their kind (HTTP ones too)', () => {
    for (const { name, s } of apps()) {
      for (const route of s.routes.filter((r) => r.manageConnections)) {
        assert.equal(allowing(roleStatements(s, route), 'execute-api:ManageConnections').length, 1, `${name} ${route.id}`);
        assert.ok(envOf(s, route)[WS_CALLBACK_URL_ENV], `${name} ${route.id}: WS_CALLBACK_URL`);
      }
    }
    assert.ok(
      opts.routes.some((r) => r.kind === 'http' && r.manageConnections),
      'an HTTP pusher is covered even if the manifest has none',
    );
  });

  for (const route of [...allRoutes, syntheticNotifyRoute, syntheticPushRoute, ...manifestAuthorizers.map((a) => a.spec), ...jobSpecs]) {
    const s = () => (route === syntheticNotifyRoute || route === syntheticPushRoute ? opts : main);

    it(`${route.id}: DynamoDB exactly ${JSON.stringify(route.tables)}: the grant's action list on the table, Query on its own GSIs`, () => {
      const access = dynamoAccess(roleStatements(s(), route));
      assert.deepEqual(access.problems, [], 'no DynamoDB action on a wildcard or non-table resource');
      const byId = tableIds(s());
      const granted = new Map([...access.tables].map(([id, a]) => [byId.get(id) ?? `not a table: ${id}`, a]));
      const expected = (Object.entries(route.tables) as [TableId, string | undefined][]).filter(([, g]) => g);
      assert.deepEqual(sorted(granted.keys()), sorted(expected.map(([t]) => t)));
      for (const [tableId, grant] of expected) {
        const a = granted.get(tableId)!;
        assert.deepEqual(sorted(a.table), grant === 'readwrite' ? READWRITE_ACTIONS : READ_ACTIONS, `${tableId}: ${grant} actions on the table`);
        const def = tables.find((t) => t.id === tableId)!;
        assert.deepEqual(sorted(a.indexes.keys()), sorted(def.indexes.map((i) => i.name)), `${tableId}: exactly its own GSIs, by name`);
        for (const [index, actions] of a.indexes) assert.deepEqual(sorted(actions), INDEX_ACTIONS, `${tableId}/${index}: Query only`);
      }
    });

    it(`${route.id}: table env vars only for granted tables`, () => {
      const vars = Object.keys(envOf(s(), route));
      const tableVars = new Set(tables.map((t) => t.envVar));
      const expected = tables.filter((t) => route.tables[t.id]).map((t) => t.envVar);
      assert.deepEqual(sorted(vars.filter((v) => tableVars.has(v))), sorted(expected));
    });

    it(`${route.id}: ManageConnections ${route.manageConnections ? "on this stage's @connections only" : 'not granted'}`, () => {
      const statements = roleStatements(s(), route).filter((st) => asArray<string>(st.Action).some((a) => a.startsWith('execute-api:')));
      const vars = envOf(s(), route);
      if (!route.manageConnections) {
        assert.deepEqual(statements, []);
        assert.equal(vars[WS_CALLBACK_URL_ENV], undefined);
        return;
      }
      assert.equal(statements.length, 1);
      const st = statements[0];
      assert.deepEqual(asArray(st.Action), ['execute-api:ManageConnections']);
      const [resource] = asArray<Json>(st.Resource);
      assert.equal(referencedId(resource), logicalId(s(), s().stack.webSocketApi), 'scoped to our WebSocket API');
      assert.ok(JSON.stringify(resource).endsWith(`/${s().stack.stage}/*/@connections/*"]]}`), "scoped to this stage's @connections");
      assert.ok(vars[WS_CALLBACK_URL_ENV], 'WS_CALLBACK_URL is set');
    });

    it(`${route.id}: secrets ${route.secrets?.length ? JSON.stringify(route.secrets) : 'none'}`, () => {
      const secretStatements = roleStatements(s(), route).filter((st) => asArray<string>(st.Action).some((a) => a.startsWith('secretsmanager:')));
      const vars = envOf(s(), route);
      for (const [id, envVar] of Object.entries(secretEnvVars)) {
        const listed = (route.secrets ?? []).includes(id as keyof typeof secretEnvVars);
        assert.equal(envVar in vars, listed, `${envVar} set iff ${id} is listed`);
      }
      assert.equal(secretStatements.length > 0, Boolean(route.secrets?.length));
      if (route.secrets?.includes('auth')) {
        const secretId = logicalId(s(), s().stack.secrets.auth);
        assert.equal(referencedId(vars[secretEnvVars.auth]), secretId, 'AUTH_SECRET_ARN is the auth secret');
        assert.ok(
          secretStatements.every((st) => asArray<Json>(st.Resource).every((r) => referencedId(r) === secretId)),
          'read on that secret only',
        );
      }
    });

    it(`${route.id}: OTP sending ${route.notify ? 'from the configured address only' : 'not granted'}`, () => {
      const statements = roleStatements(s(), route);
      const messaging = statements.filter((st) => asArray<string>(st.Action).some((a) => /^(ses|sns|sms-voice|mobiletargeting):/i.test(a) || a === '*'));
      const vars = envOf(s(), route);
      if (!route.notify) {
        assert.deepEqual(messaging, [], 'no SES / SNS actions');
        assert.equal(vars.SES_FROM_ADDRESS, undefined);
        return;
      }
      assert.equal(vars.SES_FROM_ADDRESS, FROM);

      const ses = messaging.filter((st) => asArray<string>(st.Action).some((a) => a.startsWith('ses:')));
      assert.equal(ses.length, 1, 'one SES statement');
      assert.equal(ses[0].Effect, 'Allow');
      assert.deepEqual(sorted(asArray(ses[0].Action)), ['ses:SendEmail', 'ses:SendRawEmail']);
      const [identity, ...more] = asArray<Json>(ses[0].Resource);
      assert.equal(more.length, 0, 'one identity');
      const parts = identity['Fn::Join'][1];
      assert.deepEqual(
        parts,
        ['arn:', { Ref: 'AWS::Partition' }, ':ses:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':identity/mail.example.com'],
        "the From address's domain identity in this account and region",
      );
      assert.deepEqual(ses[0].Condition, { StringEquals: { 'ses:FromAddress': FROM } });

      const sns = messaging.filter((st) => asArray<string>(st.Action).some((a) => a.startsWith('sns:')));
      const allow = sns.filter((st) => st.Effect === 'Allow');
      const deny = sns.filter((st) => st.Effect === 'Deny');
      assert.equal(allow.length, 1);
      assert.deepEqual(asArray(allow[0].Action), ['sns:Publish']);
      assert.deepEqual(asArray(allow[0].Resource), ['*'], 'SMS to a phone number has no ARN');
      assert.equal(deny.length, 1, 'topics and platform endpoints are denied');
      assert.deepEqual(asArray(deny[0].Action), ['sns:Publish']);
      assert.deepEqual(asArray(deny[0].Resource), [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sns:*:*:*']] }]);
      assert.equal(messaging.length, 3, 'nothing else');
    });
  }

  it('the options app has a notify route even if the manifest has none, and only notify functions send', () => {
    for (const { name, s } of apps()) {
      const all: Granted[] = [...s.routes, ...allWorkers.map(workerFunctionSpec)];
      const senders = all.filter((r) => allowing(roleStatements(s, r), 'ses:SendEmail').length > 0).map((r) => r.id);
      assert.deepEqual(sorted(senders), sorted(all.filter((r) => r.notify).map((r) => r.id)), name);
      assert.ok(senders.includes('OtpDelivery'), `${name}: the OTP worker sends`);
      const publishers = all.filter((r) => allowing(roleStatements(s, r), 'sns:Publish').length > 0).map((r) => r.id);
      assert.deepEqual(sorted(publishers), sorted(senders), name);
    }
    assert.ok(opts.routes.some((r) => r.notify));
  });

  it('sesIdentityArn replaces the derived identity ARN', () => {
    const arn = 'arn:aws:ses:eu-west-1:123456789012:identity/example.org';
    const built = buildApp({ sesIdentityArn: arn }, [syntheticNotifyRoute]);
    const ses = allowing(policyStatements(flattenedTemplate(built.stack).Resources), 'ses:SendEmail');
    assert.equal(ses.length, 2, 'the synthetic route and the OTP worker');
    for (const st of ses) {
      assert.deepEqual(asArray(st.Resource), [arn]);
      assert.deepEqual(st.Condition, { StringEquals: { 'ses:FromAddress': FROM } });
    }
  });

  it('a notify route without sesFromAddress fails synth, naming the route and the context key', () => {
    assert.throws(() => buildApp({ sesFromAddress: undefined }, [syntheticNotifyRoute]), /route TestSendOtp sends OTP messages.*"sesFromAddress"/);
  });

  it('customer managed table keys are granted as grantReadData/grantReadWriteData would: decrypt to read, encrypt too to write', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'CmkProbe');
    const key = new Key(stack, 'Key', { enableKeyRotation: true });
    const cmkTables = Object.fromEntries(
      tables.map((t) => [
        t.id,
        new Table(stack, `${t.id}Table`, {
          partitionKey: { name: 'pk', type: AttributeType.STRING },
          encryption: TableEncryption.CUSTOMER_MANAGED,
          encryptionKey: key,
        }),
      ]),
    ) as Record<TableId, Table>;
    // Only tables and settings are used by routes without secrets or manageConnections.
    const resources = { tables: cmkTables, secrets: {}, webSocketStage: undefined, settings: { otpRequiredFor: 'register' } } as unknown as RouteResources;
    const spec = (id: string, tables: FunctionSpec['tables']) => routeFunctionSpec({ ...syntheticNotifyRoute, id, notify: false, tables });
    const reader = new RouteFunction(stack, 'Reader', { ...resources, stage: 'dev', logKey: key, spec: spec('Reader', { keys: 'read' }) });
    const writer = new RouteFunction(stack, 'Writer', { ...resources, stage: 'dev', logKey: key, spec: spec('Writer', { keys: 'readwrite' }) });
    const template = Template.fromStack(stack).toJSON();
    const keyId = stack.getLogicalId(key.node.defaultChild as CfnElement);
    const kmsActions = (fn: RouteFunction) => {
      const roleId = stack.getLogicalId(fn.role.node.defaultChild as CfnElement);
      return new Set(
        policyStatements(template.Resources as Record<string, CfnJson>, roleId)
          .filter((st) => asArray<Json>(st.Resource).some((x) => referencedId(x) === keyId))
          .flatMap((st) => asArray<string>(st.Action)),
      );
    };
    assert.deepEqual(sorted(kmsActions(reader)), ['kms:Decrypt']);
    const writes = kmsActions(writer);
    assert.ok(writes.has('kms:Decrypt') && writes.has('kms:Encrypt') && writes.has('kms:GenerateDataKey*'), [...writes].join(','));
  });
});

// ---- attachments: the bucket, its grants, the sweeper's schedule ------------------------------------------

/** S3 actions per manifest right, spelled out here rather than imported, so a change to the mapping is a test failure. */
const S3_ACTIONS: Readonly<Record<string, string>> = { put: 's3:PutObject', get: 's3:GetObject', delete: 's3:DeleteObject', list: 's3:ListBucket' };
const touchesS3 = (action: string) => action.toLowerCase().startsWith('s3:') || Object.values(S3_ACTIONS).some((a) => actionCovers(action, a));
/** Allow statements that name any S3 action (or a wildcard covering one). */
const s3Statements = (statements: Json[]) => statements.filter((st) => st.Effect === 'Allow' && asArray<string>(st.Action).some(touchesS3));
/** A statement in a comparable shape: actions sorted and as a list, resources as a list. */
const normalized = (st: Json) => ({ Action: sorted(asArray<string>(st.Action)), Resource: asArray<Json>(st.Resource), Condition: st.Condition });

/** The statements a function's `buckets` must become: object actions on `<bucket>/<prefix>*`, ListBucket on the bucket under an s3:prefix condition. */
function expectedS3Statements(s: Synth, buckets: Partial<Record<BucketId, BucketGrant>> | undefined): Json[] {
  const out: Json[] = [];
  for (const [id, grant] of Object.entries(buckets ?? {}) as [BucketId, BucketGrant][]) {
    assert.equal(id, 'attachments', 'the stack has one bucket');
    const arn = (...suffix: string[]) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { Ref: logicalId(s, s.stack.attachments.bucket) }, ...suffix]],
    });
    const objects = grant.actions.filter((a) => a !== 'list').map((a) => S3_ACTIONS[a]!);
    if (objects.length) out.push({ Action: sorted(objects), Resource: [arn(`/${grant.prefix}*`)], Condition: undefined });
    if (grant.actions.includes('list')) {
      out.push({ Action: ['s3:ListBucket'], Resource: [arn()], Condition: { StringLike: { 's3:prefix': [`${grant.prefix}*`] } } });
    }
  }
  return out;
}

describe('attachments bucket', () => {
  const blobs = (s: Synth) => res(s, logicalId(s, s.stack.attachments.bucket));
  const logs = (s: Synth) => res(s, logicalId(s, s.stack.attachments.logBucket));
  const policyOf = (s: Synth, bucketId: string) => {
    const found = ofType(s, 'AWS::S3::BucketPolicy').filter(([, p]) => referencedId(p.Properties.Bucket) === bucketId);
    assert.equal(found.length, 1, `${bucketId} has one bucket policy`);
    return asArray<Json>(found[0]![1].Properties.PolicyDocument.Statement);
  };
  const allPublicAccessBlocked = { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true };

  it('two buckets in the stack: the blobs and their access logs', () => {
    for (const { name, s } of apps()) {
      assert.deepEqual(
        sorted(ofType(s, 'AWS::S3::Bucket').map(([id]) => id)),
        sorted([logicalId(s, s.stack.attachments.bucket), logicalId(s, s.stack.attachments.logBucket)]),
        name,
      );
    }
  });

  it('blobs: private, ACLs off, SSE-S3, unversioned, server access logs to the log bucket, retained like the tables', () => {
    for (const { name, s } of apps()) {
      const b = blobs(s);
      assert.deepEqual(b.Properties.PublicAccessBlockConfiguration, allPublicAccessBlocked, name);
      assert.deepEqual(b.Properties.OwnershipControls, { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] }, name);
      assert.deepEqual(
        b.Properties.BucketEncryption,
        { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        name,
      );
      assert.equal(b.Properties.VersioningConfiguration, undefined, `${name}: unversioned (a deleted blob is gone)`);
      assert.deepEqual(
        b.Properties.LoggingConfiguration,
        { DestinationBucketName: { Ref: logicalId(s, s.stack.attachments.logBucket) }, LogFilePrefix: 'attachments-bucket/' },
        name,
      );
      assert.equal(b.Properties.BucketName, undefined, `${name}: no physical name (stages coexist)`);
      assert.equal(b.Properties.ObjectLockEnabled, undefined, name);
      const [, table] = ofType(s, 'AWS::DynamoDB::Table')[0]!;
      assert.deepEqual([b.DeletionPolicy, b.UpdateReplacePolicy], [table.DeletionPolicy, table.UpdateReplacePolicy], `${name}: as the tables`);
      assert.deepEqual([b.DeletionPolicy, b.UpdateReplacePolicy], ['RetainExceptOnCreate', 'Retain'], name);
    }
  });

  it(`blobs: lifecycle expires ${ATTACHMENT_PREFIX} objects message retention + 2 days after upload and aborts multipart uploads after a day`, () => {
    assert.equal(DEFAULT_MESSAGE_RETENTION_DAYS, loadConfig({}).messages.retentionSeconds / 86400, "the stack's default is the code's");
    for (const [s, days] of [
      [main, DEFAULT_MESSAGE_RETENTION_DAYS + 2],
      [opts, 30 + 2],
    ] as const) {
      assert.deepEqual(
        blobs(s).Properties.LifecycleConfiguration.Rules,
        [
          { Id: 'ExpireBlobs', Prefix: ATTACHMENT_PREFIX, ExpirationInDays: days, Status: 'Enabled' },
          { Id: 'AbortIncompleteMultipartUploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
        ],
        s.stack.stage,
      );
    }
  });

  it('blobs: CORS only from the corsOrigins setting, for PUT, GET and HEAD with content-type and content-length; none without it', () => {
    assert.equal(blobs(main).Properties.CorsConfiguration, undefined);
    assert.deepEqual(blobs(opts).Properties.CorsConfiguration, {
      CorsRules: [
        {
          AllowedOrigins: ['https://app.example.com', 'http://localhost:5173'],
          AllowedMethods: ['PUT', 'GET', 'HEAD'],
          AllowedHeaders: ['content-type', 'content-length'],
          ExposedHeaders: ['etag', 'content-length'],
          MaxAge: 3600,
        },
      ],
    });
    assert.equal(logs(opts).Properties.CorsConfiguration, undefined, 'the log bucket has none');
  });

  it('access logs: private, ACLs off, SSE-S3 (what log delivery needs), versioned, kept a year (deleted ones 30 days), retained', () => {
    for (const { name, s } of apps()) {
      const l = logs(s);
      assert.deepEqual(l.Properties.PublicAccessBlockConfiguration, allPublicAccessBlocked, name);
      assert.deepEqual(l.Properties.OwnershipControls, { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] }, name);
      assert.deepEqual(
        l.Properties.BucketEncryption,
        { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        name,
      );
      assert.deepEqual(l.Properties.VersioningConfiguration, { Status: 'Enabled' }, name);
      assert.deepEqual(l.Properties.LifecycleConfiguration.Rules, [
        { Id: 'ExpireAccessLogs', ExpirationInDays: 365, NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' },
        { Id: 'RemoveExpiredDeleteMarkers', ExpiredObjectDeleteMarker: true, Status: 'Enabled' },
      ]);
      assert.equal(l.Properties.LoggingConfiguration, undefined, `${name}: not logged itself`);
      assert.deepEqual([l.DeletionPolicy, l.UpdateReplacePolicy], ['RetainExceptOnCreate', 'Retain'], name);
    }
  });

  it('bucket policies: both TLS only; the only Allow is log delivery into the log bucket, from the blobs bucket of this account', () => {
    for (const { name, s } of apps()) {
      const blobsId = logicalId(s, s.stack.attachments.bucket);
      const logsId = logicalId(s, s.stack.attachments.logBucket);
      for (const id of [blobsId, logsId]) {
        const arn = { 'Fn::GetAtt': [id, 'Arn'] };
        assert.deepEqual(
          policyOf(s, id).filter((st) => st.Effect === 'Deny'),
          [
            {
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 's3:*',
              Resource: [arn, { 'Fn::Join': ['', [arn, '/*']] }],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
          `${name} ${id}: refuses plain HTTP`,
        );
      }
      assert.deepEqual(
        policyOf(s, blobsId).filter((st) => st.Effect === 'Allow'),
        [],
        `${name}: nothing is allowed by the blobs bucket's policy (functions get IAM grants)`,
      );
      assert.deepEqual(
        policyOf(s, logsId).filter((st) => st.Effect === 'Allow'),
        [
          {
            Effect: 'Allow',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Action: 's3:PutObject',
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logsId, 'Arn'] }, '/attachments-bucket/*']] },
            Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [blobsId, 'Arn'] } }, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      );
    }
  });

  it('the S3 checker sees S3 behind wildcards, ignores Deny, and compares statements whatever their action order', () => {
    for (const pattern of ['s3:GetObject', 's3:*', 'S3:Get*', '*'])
      assert.equal(s3Statements([{ Effect: 'Allow', Action: pattern, Resource: '*' }]).length, 1, pattern);
    assert.equal(s3Statements([{ Effect: 'Deny', Action: 's3:*', Resource: '*' }]).length, 0);
    assert.equal(s3Statements([{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }]).length, 0);
    assert.deepEqual(
      normalized({ Action: ['s3:PutObject', 's3:GetObject'], Resource: 'x' }),
      normalized({ Action: ['s3:GetObject', 's3:PutObject'], Resource: ['x'] }),
    );
    assert.ok(
      allScheduledJobs.some((j) => j.buckets?.attachments?.actions.includes('list')),
      'a job lists (so the ListBucket check can fail)',
    );
  });

  for (const { name, s } of [
    { name: 'manifest app', s: () => main },
    { name: 'options app', s: () => opts },
  ]) {
    it(`${name}: each function's S3 rights are exactly its manifest \`buckets\`, with ATTACHMENTS_BUCKET; no other role has any`, () => {
      const functions = Object.values(s().stack.functions);
      assert.ok(
        functions.some((fn) => fn.spec.buckets),
        'some function has bucket rights (so this can fail)',
      );
      let granted = 0;
      for (const fn of functions) {
        const statements = s3Statements(roleStatements(s(), fn.spec)).map(normalized);
        const expected = expectedS3Statements(s(), fn.spec.buckets);
        assert.deepEqual(
          statements.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
          expected.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
          fn.spec.id,
        );
        granted += statements.length;
        const env = envOf(s(), fn.spec);
        if (fn.spec.buckets?.attachments) assert.deepEqual(env.ATTACHMENTS_BUCKET, { Ref: logicalId(s(), s().stack.attachments.bucket) }, fn.spec.id);
        else assert.equal(env.ATTACHMENTS_BUCKET, undefined, fn.spec.id);
      }
      assert.equal(s3Statements(allStatements(s())).length, granted, "no role but the granted functions' allows any S3 action");
    });
  }

  it("the manifest's functions with bucket rights: the three attachment routes and the sweeper, with the rights the issue asks for", () => {
    const rights = Object.fromEntries(
      Object.values(main.stack.functions)
        .filter((fn) => fn.spec.buckets)
        .map((fn) => [fn.spec.id, fn.spec.buckets?.attachments?.actions]),
    );
    assert.deepEqual(rights, { CreateAttachment: ['put'], CompleteAttachment: ['get'], GetAttachment: ['get'], AttachmentSweeper: ['delete', 'list'] });
  });

  it('a grant on a missing bucket, or with a wildcard or unterminated prefix, fails synth', () => {
    const withBuckets = (buckets: Json) => [{ ...syntheticNotifyRoute, notify: false, id: 'TestBlobs', buckets } as HttpRoute];
    assert.throws(
      () => buildApp({}, withBuckets({ attachments: { actions: ['get'], prefix: 'attachments/*' } })),
      /prefix "attachments\/\*" must be a key prefix/,
    );
    assert.throws(() => buildApp({}, withBuckets({ attachments: { actions: ['get'], prefix: 'attachments' } })), /must be a key prefix ending in "\/"/);
    assert.throws(() => buildApp({}, withBuckets({ attachments: { actions: [], prefix: 'attachments/' } })), /rights must be some of put, get, delete, list/);
    assert.throws(() => buildApp({}, withBuckets({ attachments: { actions: ['write'], prefix: 'attachments/' } })), /rights must be some of/);
  });
});

describe('scheduled jobs', () => {
  const rate = (minutes: number) => `rate(${minutes} minute${minutes === 1 ? '' : 's'})`;

  it('one EventBridge rule per job, at its rate, invoking its live alias, which EventBridge may invoke from that rule only', () => {
    assert.ok(allScheduledJobs.length > 0, 'the manifest has a job (so this can fail)');
    for (const { name, s } of apps()) {
      const rules = ofType(s, 'AWS::Events::Rule');
      assert.equal(rules.length, allScheduledJobs.length, name);
      for (const job of allScheduledJobs) {
        const ruleId = logicalId(s, s.stack.schedules[job.id]!);
        const rule = res(s, ruleId).Properties;
        assert.equal(rule.ScheduleExpression, rate(job.everyMinutes), `${name} ${job.id}`);
        assert.equal(rule.State, 'ENABLED');
        assert.deepEqual(
          asArray<Json>(rule.Targets).map((t) => t.Arn),
          [{ Ref: aliasId(s, job) }],
          `${name} ${job.id}: its live alias`,
        );
        const permissions = ofType(s, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'events.amazonaws.com');
        const mine = permissions.filter(([, p]) => referencedId(p.Properties.FunctionName) === aliasId(s, job));
        assert.equal(mine.length, 1, `${name} ${job.id}: one invoke permission`);
        assert.deepEqual(mine[0]![1].Properties.SourceArn, { 'Fn::GetAtt': [ruleId, 'Arn'] }, 'from its rule only');
      }
    }
    assert.equal(rate(15), 'rate(15 minutes)');
  });

  it("each job's function lives in the schedule area's nested stack, beside its rule, and is watched like every function (errors, throttles, duration)", () => {
    for (const job of allScheduledJobs) {
      const fn = main.stack.functions[job.id]!;
      assert.equal(Stack.of(fn).node.id, 'ScheduleFunctions');
      assert.equal(Stack.of(main.stack.schedules[job.id]!), Stack.of(fn));
      assert.equal(fn.spec.trigger, 'schedule');
      assert.equal(main.stack.monitoring.functionAlarms(job.id).length, 3);
    }
  });
});

// ---- deployment settings from context -------------------------------------------------------------------

describe('deployment settings', () => {
  const settingsFor = (context: Record<string, unknown>) => readDeploymentSettings(new App({ context }).node);

  it('OTP_REQUIRED_FOR defaults to "register" on every function; JWT_ISSUER is left to the code default', () => {
    for (const route of [...allRoutes, ...manifestAuthorizers.map((a) => a.spec)]) {
      const vars = envOf(main, route);
      assert.equal(vars.OTP_REQUIRED_FOR, 'register', route.id);
      assert.equal(vars.JWT_ISSUER, undefined, route.id);
    }
  });

  it('otpRequiredFor and jwtIssuer from context reach every function (flow list normalized)', () => {
    for (const route of [...opts.routes, ...authorizersOf(opts.routes).map((a) => a.spec)]) {
      const vars = envOf(opts, route);
      assert.equal(vars.OTP_REQUIRED_FOR, 'register,login', route.id);
      assert.equal(vars.JWT_ISSUER, 'https://chat.example.com', route.id);
    }
  });

  it('messageRetentionDays from context reaches every function as MESSAGE_RETENTION_DAYS; absent, the code default holds (no variable)', () => {
    for (const fn of Object.values(opts.stack.functions)) assert.equal(envOf(opts, fn.spec).MESSAGE_RETENTION_DAYS, '30', fn.spec.id);
    for (const fn of Object.values(main.stack.functions)) assert.equal(envOf(main, fn.spec).MESSAGE_RETENTION_DAYS, undefined, fn.spec.id);
    assert.equal(settingsFor({ messageRetentionDays: 90 }).messageRetentionDays, 90);
    assert.equal(settingsFor({}).messageRetentionDays, undefined);
    for (const value of [0, 3651, '7.5', 'a year', -1, true]) {
      assert.throws(() => settingsFor({ messageRetentionDays: value }), /context "messageRetentionDays" must be a whole number from 1 to 3650/, String(value));
    }
  });

  it('otpRequiredFor accepts none, register, login and both (either order)', () => {
    const cases: [string, string][] = [
      ['none', 'none'],
      ['register', 'register'],
      ['login', 'login'],
      ['register,login', 'register,login'],
      ['login,register', 'register,login'],
      [' register , login ', 'register,login'],
    ];
    for (const [value, expected] of cases) assert.equal(settingsFor({ otpRequiredFor: value }).otpRequiredFor, expected, value);
    assert.equal(settingsFor({}).otpRequiredFor, 'register');
  });

  it('CORS: the HTTP API answers preflights for the configured origins only, with credentials; none without the setting', () => {
    const httpApi = (t: Synth) =>
      Object.values(t.template.toJSON().Resources as Record<string, any>).find(
        (r) => r.Type === 'AWS::ApiGatewayV2::Api' && r.Properties.ProtocolType === 'HTTP',
      );
    assert.equal(httpApi(main).Properties.CorsConfiguration, undefined);
    const cors = httpApi(opts).Properties.CorsConfiguration;
    assert.deepEqual(cors.AllowOrigins, ['https://app.example.com', 'http://localhost:5173']);
    assert.equal(cors.AllowCredentials, true);
    assert.deepEqual(sorted(cors.AllowHeaders), ['authorization', 'content-type']);
    assert.throws(() => settingsFor({ corsOrigins: '*' }), /CORS origin/);
  });

  it('an invalid otpRequiredFor fails synth with a message naming the key and the allowed values', () => {
    for (const value of ['sometimes', '', 'register,register', 'none,login', 'Register', 'register;login', true, 3]) {
      assert.throws(
        () => settingsFor({ otpRequiredFor: value }),
        /context "otpRequiredFor" must be one of "none", "register", "login", "register,login"/,
        String(value),
      );
    }
    assert.throws(() => buildApp({ otpRequiredFor: 'always' }), /context "otpRequiredFor"/, 'the real app refuses it too');
  });

  it('jwtIssuer, sesFromAddress and sesIdentityArn are validated', () => {
    assert.throws(() => settingsFor({ jwtIssuer: '' }), /context "jwtIssuer"/);
    assert.throws(() => settingsFor({ jwtIssuer: 'has spaces' }), /context "jwtIssuer"/);
    assert.throws(() => settingsFor({ sesFromAddress: 'NexChat <no-reply@example.com>' }), /context "sesFromAddress" must be a bare email address/);
    assert.throws(() => settingsFor({ sesFromAddress: 'no-reply@localhost' }), /context "sesFromAddress"/);
    assert.throws(() => settingsFor({ sesFromAddress: FROM, sesIdentityArn: 'arn:aws:ses:eu-west-1:123456789012:identity/*' }), /context "sesIdentityArn"/);
    assert.throws(() => settingsFor({ sesIdentityArn: 'arn:aws:ses:eu-west-1:123456789012:identity/example.org' }), /"sesFromAddress" is not/);
    assert.deepEqual(settingsFor({ sesFromAddress: FROM }).notify, { sesFromAddress: FROM });
  });
});

// ---- stage isolation and secrets --------------------------------------------------------------------

describe('stage isolation', () => {
  it('no hard-coded physical names, so two stages can coexist (access log groups: named after the stack)', () => {
    const nameProps: Record<string, string> = {
      'AWS::DynamoDB::Table': 'TableName',
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::Logs::LogGroup': 'LogGroupName',
      'AWS::IAM::Role': 'RoleName',
      'AWS::SecretsManager::Secret': 'Name',
      'AWS::S3::Bucket': 'BucketName',
    };
    for (const { s } of apps()) {
      for (const [id, r] of Object.entries(s.resources)) {
        const prop = nameProps[r.Type];
        const name: unknown = prop ? r.Properties?.[prop] : undefined;
        if (r.Type === 'AWS::Logs::LogGroup' && typeof name === 'string') {
          assert.ok(name.startsWith(`${ACCESS_LOG_PREFIX}/${s.stack.stackName}/`), `${id}: ${name} is under this stack's prefix`);
        } else if (prop) assert.equal(name, undefined, `${id} has no ${prop}`);
      }
    }
  });

  it('the auth secret is generated, never a value in the template', () => {
    const secrets = ofType(main, 'AWS::SecretsManager::Secret');
    assert.equal(secrets.length, 1);
    const [, secret] = secrets[0]!;
    assert.ok(secret.Properties.GenerateSecretString, 'generated by Secrets Manager');
    assert.equal(secret.Properties.SecretString, undefined);
    assert.equal(secret.DeletionPolicy, 'RetainExceptOnCreate', 'kept on stack delete, removed when a failed create rolls back');
    assert.equal(secret.UpdateReplacePolicy, 'Retain');
  });

  it('another stage synthesizes as its own stack with its own WebSocket stage', () => {
    assert.equal(opts.stack.stackName, 'NexChat-opts');
    const stage = opts.template.findResources('AWS::ApiGatewayV2::Stage', { Properties: { StageName: 'opts' } });
    assert.equal(Object.keys(stage).length, 1);
    assert.throws(() => buildApp({ stage: 'Prod Stage' }), /context "stage" must match/);
  });
});

// ---- operator readiness -------------------------------------------------------------------------------

describe('operator readiness', () => {
  const ACCOUNT = '123456789012';
  const REGION = 'eu-west-1';
  let prod: Synth;
  before(() => {
    prod = synthesize(buildApp({ stage: 'prod', account: ACCOUNT, region: REGION }), allRoutes);
  });

  it('tables have deletion protection in prod only, so a failed first create elsewhere rolls back cleanly', () => {
    for (const [s, expected] of [
      [main, false],
      [prod, true],
    ] as const) {
      for (const [id, t] of ofType(s, 'AWS::DynamoDB::Table')) assert.equal(t.Properties.DeletionProtectionEnabled, expected, `${s.stack.stage} ${id}`);
    }
  });

  it('log groups (functions and access logs) are destroyed with a non-prod stack and retained in prod', () => {
    for (const [s, policy] of [
      [main, 'Delete'],
      [opts, 'Delete'],
      [prod, 'Retain'],
    ] as const) {
      const groups = ofType(s, 'AWS::Logs::LogGroup');
      assert.equal(
        groups.length,
        Object.keys(s.stack.functions).length + 3,
        `${s.stack.stage}: one per function, the account-role custom resource's and two access log groups`,
      );
      for (const [id, g] of groups) {
        assert.equal(g.DeletionPolicy, policy, `${s.stack.stage} ${id}`);
        assert.equal(g.UpdateReplacePolicy, policy, `${s.stack.stage} ${id}`);
      }
    }
  });

  it('access log groups are named under /aws/vendedlogs/, per stack, so they do not grow the shared Logs resource policy', () => {
    for (const s of [main, prod]) {
      const name = (stage: Json) => res(s, referencedId(stage.Properties.AccessLogSettings.DestinationArn) ?? '(none)').Properties.LogGroupName;
      const prefix = `/aws/vendedlogs/nexchat/NexChat-${s.stack.stage}`;
      assert.equal(name(res(s, logicalId(s, s.stack.httpStage))), `${prefix}/http-access`);
      assert.equal(name(res(s, logicalId(s, s.stack.webSocketStage))), `${prefix}/ws-access`);
    }
  });

  it("cdk.json's .invalid sesFromAddress is refused for every stage but dev, naming the key", () => {
    const placeholder = cdkJson.context.sesFromAddress;
    assert.equal(placeholder, 'no-reply@nexchat.invalid', 'the placeholder this guards against');
    const settingsFor = (context: Record<string, unknown>) => readDeploymentSettings(new App({ context }).node);
    assert.deepEqual(settingsFor({ sesFromAddress: placeholder }).notify, { sesFromAddress: placeholder }, 'dev (the default stage) may keep it');
    assert.deepEqual(settingsFor({ stage: 'dev', sesFromAddress: placeholder }).notify, { sesFromAddress: placeholder });
    for (const stage of ['prod', 'staging', 'opts']) {
      assert.throws(() => settingsFor({ stage, sesFromAddress: placeholder }), /context "sesFromAddress" is "no-reply@nexchat\.invalid", a placeholder/, stage);
    }
    assert.throws(() => settingsFor({ stage: 'prod', sesFromAddress: 'no-reply@Mail.INVALID' }), /context "sesFromAddress"/);
    assert.throws(() => buildApp({ stage: 'prod', sesFromAddress: placeholder }), /context "sesFromAddress"/, 'the real app refuses it too');
  });

  it('context account/region pin the stack environment; without them it stays environment-agnostic', () => {
    assert.equal(prod.stack.account, ACCOUNT);
    assert.equal(prod.stack.region, REGION);
    assert.ok(Token.isUnresolved(main.stack.account) && Token.isUnresolved(main.stack.region), 'no pinning by default');
    const regionOnly = buildApp({ stage: 'eu', region: 'eu-central-1' }).stack;
    assert.equal(regionOnly.region, 'eu-central-1');
    assert.ok(Token.isUnresolved(regionOnly.account));
    assert.throws(() => buildApp({ account: '12345' }), /context "account" must be a 12-digit AWS account id/);
    assert.throws(() => buildApp({ region: 'Europe' }), /context "region" must be an AWS region/);
  });

  it('the prod stack has termination protection; other stages do not', () => {
    assert.equal(prod.stack.terminationProtection, true);
    assert.equal(main.stack.terminationProtection, false);
    assert.equal(opts.stack.terminationProtection, false);
  });

  const identities = (s: Synth): TableSnapshot =>
    Object.fromEntries(
      tables.map((t) => {
        const id = logicalId(s, s.stack.tables[t.id]);
        return [t.id, tableIdentity(id, res(s, id) as Json)];
      }),
    );

  it(`table logical ids and keys match ${SNAPSHOT_PATH} (a change would create a new, empty table)`, () => {
    const actual = identities(main);
    const url = new URL(`../${SNAPSHOT_PATH}`, import.meta.url);
    if (process.env[UPDATE_ENV] === '1') writeFileSync(url, `${JSON.stringify(actual, null, 2)}\n`);
    const expected = JSON.parse(readFileSync(url, 'utf8')) as TableSnapshot;
    const problems = tableSnapshotDiff(expected, actual);
    assert.deepEqual(problems, [], explainTableDrift(problems));
    assert.deepEqual(tableSnapshotDiff(expected, identities(prod)), [], 'every stage has the same table identities');
  });

  it('the snapshot check catches a new logical id, a changed key, a changed GSI key and a missing table', () => {
    const actual = identities(main);
    const first = tables[0]!.id;
    const withGsi = tables.find((t) => t.indexes.length > 0)!.id;
    const changed: TableSnapshot = structuredClone(actual);
    changed[first] = { ...changed[first]!, logicalId: 'RenamedTable0000' };
    changed[withGsi] = {
      ...changed[withGsi]!,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [{ IndexName: 'other', KeySchema: [] }],
    };
    const problems = tableSnapshotDiff(changed, actual);
    assert.ok(
      problems.some((p) => p.startsWith(`table ${first}: logicalId`)),
      problems.join('\n'),
    );
    assert.ok(problems.some((p) => p.startsWith(`table ${withGsi}: KeySchema`)));
    assert.ok(problems.some((p) => p.startsWith(`table ${withGsi}: GlobalSecondaryIndexes`)));
    const { [first]: _dropped, ...fewer } = actual;
    assert.deepEqual(tableSnapshotDiff(actual, fewer), [`table ${first}: in the snapshot, not in the template (removed or renamed)`]);
    assert.match(explainTableDrift(problems), /NEW, EMPTY table[\s\S]*UPDATE_TABLE_SNAPSHOT=1/);
  });
});

// ---- cdk-nag ------------------------------------------------------------------------------------------

describe('cdk-nag (AwsSolutions + Serverless)', () => {
  it('synthesis reports zero unsuppressed errors (and, today, zero warnings), with and without the options', () => {
    for (const { name, s } of apps()) {
      assert.deepEqual(violationLines(s.report, ['error', 'fatal']), [], name);
      assert.deepEqual(violationLines(s.report, ['warning']), [], name);
    }
  });

  it('the packs are wired in: a non-compliant resource fails synthesis', () => {
    const { app, stack: bad } = buildApp();
    new Queue(bad, 'UnencryptedQueueWithoutDlq');
    const report = failedSynthReport(app);
    assert.match(report, /AwsSolutions-SQS3/);
    assert.match(report, /Serverless-SQSRedrivePolicy/);
  });

  it('$connect has its authorizer, so nothing flags or acknowledges AwsSolutions-APIG4 there; the other routes acknowledge it', () => {
    const raw = rawNagFindings(() => buildApp());
    const acks = acknowledgements(main.built.app);
    const connectPath = main.stack.webSocketApi.node.findAll().find((c) => CfnResource.isCfnResource(c) && (c as Json).routeKey === '$connect')?.node.path;
    assert.ok(connectPath, 'the $connect route resource');
    assert.deepEqual(
      raw.filter((f) => f.rule === 'AwsSolutions-APIG4' && f.path === connectPath),
      [],
      'not flagged',
    );
    assert.deepEqual(
      acks.filter((a) => a.construct.node.path === connectPath).map((a) => a.rule),
      [],
      'nothing acknowledged on $connect',
    );
    const apig4Acks = acks.filter((a) => a.rule === 'AwsSolutions-APIG4').length;
    assert.equal(apig4Acks, allRoutes.length - manifestAuthorizers.length, 'one per route without a gateway authorizer');
  });

  const cases = [
    { name: 'manifest app', s: () => main, build: () => buildApp() },
    { name: 'options app', s: () => opts, build: () => buildApp(optionsContext, opts.routes) },
  ];
  for (const { name, s, build } of cases) {
    it(`${name}: every acknowledgement names one resource, one rule and a reason, and matches a real finding`, () => {
      const raw = rawNagFindings(build);
      // Control Tower's are checked against cfn-guard's findings, in tests/infra/guard.test.ts.
      const acks = acknowledgements(s().built.app).filter((a) => !isControlTowerAcknowledgement(a));
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
        assert.doesNotMatch(ack.rule, /\/index\//, `${where}: GSIs are granted by name, never acknowledged as a wildcard`);
      }
      const unacknowledged = raw.filter((f) => f.severity === 'error' && !acks.some((a) => a.rule === f.rule && a.construct.node.path === f.path));
      assert.deepEqual(unacknowledged, []);
    });
  }
});
