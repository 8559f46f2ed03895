// Safe rollouts: every function is invoked through its `live` alias (integrations, the $connect
// authorizer, the worker's event source, invoke permissions), which points at a version that changes
// with the code; with context canary=true a CodeDeploy canary shifts each alias and rolls back on
// failure or alarm; provisioned concurrency sits on the alias where context asks; the template stays
// under CloudFormation's resource limit and free of dependency cycles with every option on.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { App, CfnResource, NestedStack, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Alarm, type IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { CfnAlias } from 'aws-cdk-lib/aws-lambda';
import { readRolloutSettings } from '../../bin/nexchat.ts';
import {
  LIVE_ALIAS,
  ROLLOUT_ERRORS_MIN,
  ROLLOUT_ERRORS_RATE_PERCENT,
  ROLLBACK_DURATION_SHARE,
  RouteFunction,
  type RouteResources,
} from '../../lib/constructs/route-function.ts';
import { NexChatStack } from '../../lib/nexchat-stack.ts';
import { hotFunctionIds, type RolloutAlarms } from '../../lib/rollout.ts';
import { allRoutes, allScheduledJobs, routes } from '../../lib/routes.ts';
import {
  acknowledgements,
  isControlTowerAcknowledgement,
  asArray,
  buildApp,
  cdkJson,
  FROM,
  logicalId,
  ofType,
  rawNagFindings,
  res,
  sorted,
  synthesize,
  type CfnJson,
  type Json,
  type Synth,
  flattenedTemplate,
  functionAreaStacks,
} from '../support/cdk-app.ts';

/**
 * CloudFormation's limit is 500 resources per template. The functions live in one nested stack per
 * area (docs/architecture.md, "Resource budget"): the main template keeps each route's gateway part
 * (route, integration) and what the whole stack shares; an area's template its functions. Each template
 * keeps well under the limit, so a new area is a new template and an area can grow by dozens of routes.
 */
const RESOURCE_BUDGET = 300;
const AREA_BUDGET = 300;
const CANARY_CONFIG = 'CodeDeployDefault.LambdaCanary10Percent5Minutes';

/** Every context option on: the canary, provisioned concurrency, and the settings the infra tests' options app uses. */
const provisioned = { WsConnect: 2, WsTicketAuthorizer: 2, WsSendMessage: 3, Login: 1 } as const;
const everythingContext = {
  stage: 'all',
  canary: 'true',
  provisionedConcurrency: Object.entries(provisioned)
    .map(([id, n]) => `${id}=${n}`)
    .join(','),
  backups: 'true',
  alarmEmail: 'oncall@example.com',
  otpRequiredFor: 'register,login',
  jwtIssuer: 'https://chat.example.com',
  corsOrigins: 'https://app.example.com',
};

// ---- template plumbing ---------------------------------------------------------------------------

/** Logical ids a value refers to: Ref, Fn::GetAtt and ${X} in Fn::Sub, anywhere inside it (pseudo parameters left out). */
function references(value: Json, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) references(v, found);
  else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value as Record<string, Json>)) {
      if (key === 'Ref' && typeof v === 'string' && !v.startsWith('AWS::')) found.add(v);
      else if (key === 'Fn::GetAtt' && Array.isArray(v)) found.add(v[0]);
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(v) ? v[0] : v;
        for (const m of String(text).matchAll(/\$\{([A-Za-z0-9]+)[.}]/g)) if (!m[1]!.startsWith('AWS')) found.add(m[1]!);
        references(Array.isArray(v) ? v[1] : undefined, found);
      } else references(v, found);
    }
  }
  return found;
}

/**
 * A dependency cycle among the template's resources, or undefined. Edges: DependsOn and every
 * reference in Properties and UpdatePolicy (CloudFormation orders the alias after the deployment
 * group its CodeDeployLambdaAliasUpdate names).
 */
function dependencyCycle(resources: Record<string, CfnJson & { UpdatePolicy?: Json }>): string[] | undefined {
  const edges = new Map(
    Object.entries(resources).map(([id, r]) => [
      id,
      [...new Set([...asArray(r.DependsOn), ...references(r.Properties), ...references(r.UpdatePolicy)])].filter((d) => d in resources),
    ]),
  );
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'open') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'open');
    path.push(id);
    for (const next of edges.get(id) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of edges.keys()) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Every function the stack makes: the API's and its own (the account-role custom resource's). */
const allFunctions = (s: Synth) => ({ ...s.stack.functions, ...s.stack.operatorFunctions });
const functionIds = (s: Synth) => Object.keys(allFunctions(s));
const fnLogicalId = (s: Synth, id: string) => logicalId(s, allFunctions(s)[id]!.function);
const aliasLogicalId = (s: Synth, id: string) => logicalId(s, allFunctions(s)[id]!.live);
const countOf = (s: Synth) => Object.keys(s.resources).length;
const countByType = (s: Synth) => Object.values(s.resources).reduce<Record<string, number>>((n, r) => ({ ...n, [r.Type]: (n[r.Type] ?? 0) + 1 }), {});

/** The stack as bin/nexchat.ts builds it, but with a rolloutAlarms hook (createApp has no such input). */
function hookedStack(alarms: RolloutAlarms): { stack: NexChatStack; resources: Record<string, CfnJson> } {
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  const stack = new NexChatStack(app, 'NexChat-hook', {
    stage: 'hook',
    settings: { otpRequiredFor: 'register', notify: { sesFromAddress: FROM } },
    rollout: { canary: true },
    rolloutAlarms: alarms,
  });
  return { stack, resources: flattenedTemplate(stack).Resources };
}

let plain: Synth;
let everything: Synth;

before(() => {
  plain = synthesize(buildApp(), allRoutes);
  everything = synthesize(buildApp(everythingContext), allRoutes);
});

// ---- versions and aliases ---------------------------------------------------------------------------

describe('versions and the live alias', () => {
  it('every function has exactly one version and one alias, named live, on that version', () => {
    for (const s of [plain, everything]) {
      const fns = new Map(functionIds(s).map((id) => [fnLogicalId(s, id), id]));
      assert.ok(fns.size > 40, 'the manifest has its functions');
      const versions = ofType(s, 'AWS::Lambda::Version');
      const aliases = ofType(s, 'AWS::Lambda::Alias');
      assert.deepEqual(sorted(versions.map(([, v]) => fns.get(v.Properties.FunctionName.Ref) ?? '?')), sorted(fns.values()), 'one version each');
      assert.deepEqual(sorted(aliases.map(([, a]) => fns.get(a.Properties.FunctionName.Ref) ?? '?')), sorted(fns.values()), 'one alias each');
      for (const [id, alias] of aliases) {
        const fnId = alias.Properties.FunctionName.Ref as string;
        assert.equal(alias.Properties.Name, LIVE_ALIAS, id);
        const versionId = alias.Properties.FunctionVersion['Fn::GetAtt'][0] as string;
        assert.deepEqual(alias.Properties.FunctionVersion, { 'Fn::GetAtt': [versionId, 'Version'] }, id);
        assert.equal(res(s, versionId).Type, 'AWS::Lambda::Version');
        assert.equal(res(s, versionId).Properties.FunctionName.Ref, fnId, `${id}: a version of its own function`);
        // currentVersion's logical id ends in a hash added at synthesis (an override): resolve it.
        const version = allFunctions(s)[fns.get(fnId)!]!.version.node.defaultChild as CfnElement;
        assert.equal(versionId, s.stack.resolve(version.logicalId), `${id}: the construct's version`);
      }
    }
  });

  it('everything that invokes a function invokes its live alias: integrations, the authorizer, the event source, schedules, invoke permissions', () => {
    for (const s of [plain, everything]) {
      const aliasIds = new Set(functionIds(s).map((id) => aliasLogicalId(s, id)));
      const targets = (type: string, prop: string) => ofType(s, type).map(([id, r]) => [id, [...references(r.Properties[prop])]] as const);
      const invokers = [
        ...targets('AWS::ApiGatewayV2::Integration', 'IntegrationUri'),
        ...targets('AWS::ApiGatewayV2::Authorizer', 'AuthorizerUri'),
        ...targets('AWS::Lambda::EventSourceMapping', 'FunctionName'),
        ...targets('AWS::Events::Rule', 'Targets'),
        ...targets('AWS::Lambda::Permission', 'FunctionName'),
      ];
      const routeCount = allRoutes.length; // with the devices routes
      const jobs = allScheduledJobs.length;
      assert.equal(
        invokers.length,
        routeCount + 1 + 2 + jobs + (routeCount + 1 + jobs),
        'routes, the authorizer, the two worker mappings, a schedule per job, a permission per gateway- or schedule-invoked function',
      );
      for (const [id, refs] of invokers) assert.ok(refs.length === 1 && aliasIds.has(refs[0]!), `${id} targets an alias: ${refs.join(',')}`);
      // A worker's mapping names the alias by its qualified name (function:live), and keeps the
      // logical id it had on the function before aliases (so the move is an in-place update).
      const mappings = ofType(s, 'AWS::Lambda::EventSourceMapping');
      for (const [, mapping] of mappings) assert.equal(mapping.Properties.FunctionName['Fn::Join'][1][1], `:${LIVE_ALIAS}`);
      const ids = mappings.map(([id]) => id).sort();
      assert.equal(ids.length, 2);
      assert.match(ids[0]!, /^OtpDeliveryFunctionSqsEventSource[A-Za-z]+OtpQueue[0-9A-F]{16}$/);
      assert.match(ids[1]!, /^PresenceOfflineFunctionSqsEventSource[A-Za-z]+PresenceQueue[0-9A-F]{16}$/);
      // Each alias called by the gateway has one permission, for API Gateway, from our APIs only; each
      // scheduled job's, for EventBridge, from its rule only.
      const rules = new Set(ofType(s, 'AWS::Events::Rule').map(([id]) => id));
      for (const [id, p] of ofType(s, 'AWS::Lambda::Permission')) {
        assert.equal(p.Properties.Action, 'lambda:InvokeFunction', id);
        assert.ok(p.Properties.SourceArn, `${id} names its source`);
        if (p.Properties.Principal === 'events.amazonaws.com') assert.ok(rules.has(p.Properties.SourceArn['Fn::GetAtt']?.[0]), `${id}: from a schedule rule`);
        else assert.equal(p.Properties.Principal, 'apigateway.amazonaws.com', id);
      }
      assert.equal(ofType(s, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'events.amazonaws.com').length, jobs);
    }
  });

  it('no unqualified invoke path is left: only versions, aliases and alarms name a function itself', () => {
    for (const [s, canary] of [
      [plain, false],
      [everything, true],
    ] as const) {
      const fns = new Set(functionIds(s).map((id) => fnLogicalId(s, id)));
      const referrers = Object.entries(s.resources).filter(([, r]) => [...references(r.Properties)].some((ref) => fns.has(ref)));
      const types = new Set(referrers.map(([, r]) => r.Type));
      assert.deepEqual(
        sorted(types),
        // the monitoring stack takes function names as parameters for its alarms (FunctionName metrics);
        // with the canary, each function's rollback alarms sit beside it
        ['AWS::CloudFormation::Stack', ...(canary ? ['AWS::CloudWatch::Alarm'] : []), 'AWS::Lambda::Alias', 'AWS::Lambda::Version'],
      );
    }
  });

  it('integrations wait for the invoke permission on their alias (no request meets an alias it may not call yet)', () => {
    for (const [id, integration] of ofType(plain, 'AWS::ApiGatewayV2::Integration')) {
      const alias = [...references(integration.Properties.IntegrationUri)][0];
      const permissions = asArray(integration.DependsOn).filter((d) => plain.resources[d]?.Type === 'AWS::Lambda::Permission');
      assert.equal(permissions.length, 1, `${id} waits for one permission`);
      assert.equal(res(plain, permissions[0]!).Properties.FunctionName.Ref, alias, `${id}: the permission on its alias`);
    }
  });

  it("a version's logical id follows the function's configuration (here: an environment variable)", () => {
    const versionOf = (context: Record<string, unknown>) => {
      const { stack } = buildApp(context);
      const resources = flattenedTemplate(stack).Resources;
      return Object.keys(resources).find((id) => id.startsWith('GetHealthFunctionCurrentVersion'));
    };
    const v1 = versionOf({ otpRequiredFor: 'register' });
    assert.ok(v1);
    assert.equal(versionOf({ otpRequiredFor: 'register' }), v1, 'same configuration, same version');
    assert.notEqual(versionOf({ otpRequiredFor: 'login' }), v1, 'changed configuration, new version (so the alias moves)');
  });

  it("a version's logical id follows the code: the bundle's asset hash (real esbuild bundling, unlike the other tests)", () => {
    // Tests skip bundling, and a skipped bundle's asset hash is its construct path: there the version
    // cannot see code changes. Bundled for real, the hash is the output's (AssetHashType.OUTPUT).
    const resources = { tables: {}, secrets: {}, webSocketStage: undefined, settings: { otpRequiredFor: 'register' } } as unknown as RouteResources;
    const version = (handler: string) => {
      const stack = new Stack(new App(), 'Probe');
      new RouteFunction(stack, 'Probe', {
        ...resources,
        logKey: new Key(stack, 'LogKey'),
        stage: 'dev',
        spec: { id: 'Probe', handler, description: 'probe', tables: {} },
      });
      const template = Template.fromStack(stack).toJSON().Resources as Record<string, CfnJson>;
      const ids = Object.entries(template).flatMap(([id, r]) => (r.Type === 'AWS::Lambda::Version' ? [id] : []));
      assert.equal(ids.length, 1);
      return ids[0]!;
    };
    const health = version(routes.getHealth.handler);
    assert.equal(version(routes.getHealth.handler), health, 'the same bundle keeps its version');
    assert.notEqual(version(routes.wsDefault.handler), health, 'another bundle (same construct, same settings) is a new version');
  });
});

// ---- canary ---------------------------------------------------------------------------------------------

describe('CodeDeploy canary (context canary=true)', () => {
  it('off by default: no CodeDeploy resources, no update policy on the aliases, no rollout alarms', () => {
    for (const type of ['AWS::CodeDeploy::Application', 'AWS::CodeDeploy::DeploymentGroup']) plain.template.resourceCountIs(type, 0);
    for (const [id, alias] of ofType(plain, 'AWS::Lambda::Alias')) assert.equal((alias as Json).UpdatePolicy, undefined, id);
    assert.deepEqual(
      ofType(plain, 'AWS::CloudWatch::Alarm').map(([id]) => id),
      [logicalId(plain, plain.stack.queues.otp.alarm), logicalId(plain, plain.stack.queues.presence.alarm)],
      'only the dead-letter alarms',
    );
    assert.equal(plain.stack.canary, undefined);
    assert.equal(plain.template.toJSON().Outputs.CanaryApplicationName, undefined);
  });

  it('one deployment group per function: 10% for 5 minutes, rolled back on failure, on stop and on alarm, its alarm attached', () => {
    const s = everything;
    const appId = logicalId(s, s.stack.canary!.application);
    const roleId = logicalId(s, s.stack.canary!.role);
    s.template.resourceCountIs('AWS::CodeDeploy::Application', 1);
    assert.deepEqual(s.template.toJSON().Outputs.CanaryApplicationName.Value, { Ref: appId }, 'named in an output for operators');
    // The API's functions; the account-role custom resource runs once per create, so no canary.
    s.template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', Object.keys(s.stack.functions).length);
    for (const id of Object.keys(s.stack.functions)) {
      const fn = s.stack.functions[id]!;
      const groupId = logicalId(s, fn.deploymentGroup!);
      const alias = res(s, aliasLogicalId(s, id)) as Json;
      assert.deepEqual(
        alias.UpdatePolicy,
        { CodeDeployLambdaAliasUpdate: { ApplicationName: { Ref: appId }, DeploymentGroupName: { Ref: groupId } } },
        `${id}: the alias shifts through its group`,
      );
      const p = res(s, groupId).Properties;
      assert.equal(p.DeploymentConfigName, CANARY_CONFIG, id);
      assert.deepEqual(p.ApplicationName, { Ref: appId });
      assert.deepEqual(p.ServiceRoleArn, { 'Fn::GetAtt': [roleId, 'Arn'] }, `${id}: the shared role`);
      assert.deepEqual(p.DeploymentStyle, { DeploymentOption: 'WITH_TRAFFIC_CONTROL', DeploymentType: 'BLUE_GREEN' });
      assert.equal(p.AutoRollbackConfiguration.Enabled, true);
      assert.deepEqual(sorted(p.AutoRollbackConfiguration.Events), ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'], id);
      assert.equal(p.AlarmConfiguration.Enabled, true);
      // its fast errors alarm and a p99 duration alarm, both beside the function in its area's stack
      const alarms = (p.AlarmConfiguration.Alarms as Json[]).map((a) => a.Name.Ref as string);
      assert.deepEqual(
        sorted(alarms),
        sorted([logicalId(s, fn.node.findChild('ErrorsAlarm')), logicalId(s, fn.node.findChild('DurationAlarm'))]),
        `${id}: its own rollback alarms`,
      );
      for (const alarm of alarms) assert.equal(res(s, alarm).Type, 'AWS::CloudWatch::Alarm');
    }
  });

  it("the default rollback alarms: the function's failed invocations (a floor and a rate) and its p99 duration, FunctionName-level (never the alias)", () => {
    const s = everything;
    for (const id of Object.keys(s.stack.functions)) {
      const fn = s.stack.functions[id]!;
      const alarm = res(s, logicalId(s, fn.node.findChild('ErrorsAlarm'))).Properties;
      assert.equal(asArray(alarm.AlarmActions).length, 0, `${id}: a rollback alarm notifies no one (the monitoring stack's alarms do)`);
      assert.equal(alarm.Threshold, ROLLOUT_ERRORS_RATE_PERCENT);
      assert.equal(alarm.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
      assert.equal(alarm.EvaluationPeriods, 1);
      assert.equal(alarm.TreatMissingData, 'notBreaching');
      const metrics = alarm.Metrics as Json[];
      assert.equal(metrics.find((m) => m.ReturnData !== false).Expression, `IF(errors >= ${ROLLOUT_ERRORS_MIN}, 100 * errors / invocations, 0)`);
      for (const [name, metricName] of [
        ['errors', 'Errors'],
        ['invocations', 'Invocations'],
      ]) {
        const stat = metrics.find((m) => m.Id === name).MetricStat;
        assert.equal(stat.Metric.MetricName, metricName);
        assert.equal(stat.Stat, 'Sum');
        assert.equal(stat.Period, 60);
        const [dimension] = stat.Metric.Dimensions as Json[];
        assert.equal(dimension.Name, 'FunctionName');
        assert.deepEqual(dimension.Value, { Ref: fnLogicalId(s, id) }, `${id}: the function, not the alias`);
      }
      const duration = res(s, logicalId(s, fn.node.findChild('DurationAlarm'))).Properties;
      assert.equal(duration.MetricName, 'Duration');
      assert.equal(duration.ExtendedStatistic, 'p99');
      assert.deepEqual(duration.Dimensions, [{ Name: 'FunctionName', Value: { Ref: fnLogicalId(s, id) } }], `${id}: the function, not the alias`);
      const timeoutMs = (res(s, fnLogicalId(s, id)).Properties.Timeout as number) * 1000;
      assert.equal(duration.Threshold, Math.round(ROLLBACK_DURATION_SHARE * timeoutMs));
      assert.deepEqual([duration.EvaluationPeriods, duration.DatapointsToAlarm], [3, 2]);
    }
  });

  it('one CodeDeploy service role for all groups, with the AWS managed Lambda deployment policy attached once', () => {
    const s = everything;
    const roles = ofType(s, 'AWS::IAM::Role').filter(([, r]) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('codedeploy.amazonaws.com'));
    assert.equal(roles.length, 1);
    const [roleId, role] = roles[0]!;
    assert.equal(roleId, logicalId(s, s.stack.canary!.role));
    assert.deepEqual(role.Properties.ManagedPolicyArns, [
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited']] },
    ]);
    assert.equal(role.Properties.Policies, undefined, 'nothing else');
    const groupRoles = new Set(ofType(s, 'AWS::CodeDeploy::DeploymentGroup').map(([, g]) => JSON.stringify(g.Properties.ServiceRoleArn)));
    assert.deepEqual([...groupRoles], [JSON.stringify({ 'Fn::GetAtt': [roleId, 'Arn'] })]);
  });

  it('the template has no dependency cycle (the alias waits for its group, the group for its alarm, the alarm for the function)', () => {
    for (const s of [plain, everything]) assert.equal(dependencyCycle(s.resources), undefined);
    // The detector can fail: close a loop by hand.
    const [aliasId, alias] = ofType(everything, 'AWS::Lambda::Alias').find(([, a]) => (a as Json).UpdatePolicy)!;
    const groupId = (alias as Json).UpdatePolicy.CodeDeployLambdaAliasUpdate.DeploymentGroupName.Ref as string;
    const looped = { ...everything.resources, [groupId]: { ...res(everything, groupId), DependsOn: [aliasId] } };
    assert.deepEqual(dependencyCycle(looped)?.slice(-1), [dependencyCycle(looped)![0]], 'a cycle is reported');
  });

  it('rolloutAlarms: alarms of the caller’s choosing, beside each function, replace the default ones, without a cycle', () => {
    const chosen = (fn: RouteFunction) => [new Alarm(fn, 'ChosenAlarm', { metric: fn.function.metricErrors(), threshold: 1, evaluationPeriods: 1 })];
    const { stack, resources } = hookedStack(chosen);
    for (const fn of Object.values(stack.functions)) {
      assert.equal(fn.node.tryFindChild('ErrorsAlarm'), undefined, `${fn.spec.id}: no default rollback alarms`);
      const group = resources[Stack.of(fn).getLogicalId(fn.deploymentGroup!.node.defaultChild as CfnResource)]!;
      const alarms = group.Properties.AlarmConfiguration.Alarms as Json[];
      assert.deepEqual(
        alarms.map((x) => x.Name),
        [{ Ref: Stack.of(fn).getLogicalId(fn.node.findChild('ChosenAlarm').node.defaultChild as CfnResource) }],
        fn.spec.id,
      );
    }
    assert.equal(dependencyCycle(resources), undefined);
  });

  it('rolloutAlarms: alarms kept in another nested stack would close a loop, and synthesis refuses it', () => {
    // The group (beside the alias, whose update policy names it) takes an alarm from another nested
    // stack, which must read the function from the area's: CloudFormation would refuse the template.
    let elsewhere: NestedStack | undefined;
    const apart = (fn: RouteFunction) => {
      elsewhere ??= new NestedStack((Stack.of(fn) as NestedStack).nestedStackParent!, 'TestAlarms');
      return [new Alarm(elsewhere, `${fn.spec.id}Errors`, { metric: fn.live.metricErrors(), threshold: 1, evaluationPeriods: 1 })];
    };
    assert.throws(
      () => hookedStack(apart),
      (error: Error) => {
        const report = /\S+validation-report\.json/.exec(String(error))?.[0];
        return report !== undefined && /Circular Dependencies/.test(readFileSync(report, 'utf8'));
      },
    );
  });

  it('a deployment group takes 1 to 10 alarms (CodeDeploy)', () => {
    assert.throws(() => hookedStack(() => []), /a canary deployment group takes 1 to 10 alarms \(CodeDeploy's limit\), got 0/);
    const many = (fn: RouteFunction): IAlarm[] => Array.from({ length: 11 }, (_, i) => Alarm.fromAlarmName(fn, `A${i}`, `alarm-${i}`));
    assert.throws(() => hookedStack(many), /got 11/);
  });
});

// ---- provisioned concurrency ----------------------------------------------------------------------------

describe('provisioned concurrency (context provisionedConcurrency)', () => {
  const onAliases = (stack: NexChatStack) =>
    Object.fromEntries(
      Object.entries(stack.functions).flatMap(([id, fn]) => {
        const config = stack.resolve((fn.live.node.defaultChild as CfnAlias).provisionedConcurrencyConfig) as Json;
        return config ? [[id, config.provisionedConcurrentExecutions as number]] : [];
      }),
    );

  it('"FunctionId=n,...": exactly those aliases, nothing on functions or versions', () => {
    const s = everything;
    const configured = Object.fromEntries(
      ofType(s, 'AWS::Lambda::Alias').flatMap(([, a]) => {
        const config = a.Properties.ProvisionedConcurrencyConfig;
        const fn = functionIds(s).find((id) => fnLogicalId(s, id) === a.Properties.FunctionName.Ref)!;
        return config ? [[fn, config.ProvisionedConcurrentExecutions]] : [];
      }),
    );
    assert.deepEqual(configured, provisioned);
    for (const [id, fn] of ofType(s, 'AWS::Lambda::Function')) assert.equal(fn.Properties.ReservedConcurrentExecutions, undefined, id);
    for (const [id, v] of ofType(s, 'AWS::Lambda::Version')) assert.equal(v.Properties.ProvisionedConcurrencyConfig, undefined, id);
    assert.deepEqual(
      ofType(plain, 'AWS::Lambda::Alias').filter(([, a]) => a.Properties.ProvisionedConcurrencyConfig),
      [],
      'none without the context',
    );
  });

  it('a bare number applies to the hot path: $connect, its authorizer, sendMessage and login', () => {
    assert.deepEqual(
      sorted(hotFunctionIds),
      sorted([routes.wsConnect.id, routes.wsConnect.authorizer?.id ?? '(none)', routes.sendMessage.id, routes.login.id]),
    );
    assert.deepEqual(sorted(hotFunctionIds), ['Login', 'WsConnect', 'WsSendMessage', 'WsTicketAuthorizer'], 'the ids an operator names');
    const expected = Object.fromEntries(hotFunctionIds.map((id) => [id, 2]));
    assert.deepEqual(onAliases(buildApp({ provisionedConcurrency: '2' }).stack), expected, 'from -c (a string)');
    assert.deepEqual(onAliases(buildApp({ provisionedConcurrency: 2 }).stack), expected, 'from cdk.json (a number)');
    assert.deepEqual(onAliases(buildApp({ provisionedConcurrency: { Login: 4, GetHealth: 0 } }).stack), { Login: 4 }, 'an object; 0 is none');
    assert.deepEqual(onAliases(buildApp({ provisionedConcurrency: '0' }).stack), {});
  });
});

// ---- context validation ------------------------------------------------------------------------------------

describe('rollout context', () => {
  const settingsFor = (context: Record<string, unknown>) => readRolloutSettings(new App({ context }).node);

  it('defaults: no canary, no provisioned concurrency', () => {
    assert.deepEqual(settingsFor({}), { canary: false, provisionedConcurrency: {} });
    assert.deepEqual(settingsFor({ canary: 'true', provisionedConcurrency: ' WsConnect = 2 , Login=1' }), {
      canary: true,
      provisionedConcurrency: { WsConnect: 2, Login: 1 },
    });
    assert.equal(settingsFor({ canary: true }).canary, true);
    assert.equal(settingsFor({ canary: 'false' }).canary, false);
  });

  it('invalid values fail synth, naming the key (and the bad part)', () => {
    assert.throws(() => buildApp({ canary: 'yes' }), /context "canary" must be true or false; got "yes"/);
    assert.throws(() => buildApp({ canary: 1 }), /context "canary" must be true or false/);
    const bad: [unknown, RegExp][] = [
      ['two', /the value is "two"/],
      ['2.5', /the value is "2.5"/],
      [-1, /the value is -1/],
      [1.5, /the value is 1.5/],
      ['WsConnect=two', /WsConnect is "two"/],
      ['WsConnect=-1', /"WsConnect=-1" is not FunctionId=n|WsConnect is "-1"/],
      ['WsConnect=2,WsConnect=3', /WsConnect is given twice/],
      ['=3', /"=3" is not FunctionId=n/],
      ['WsConnect=2=3', /"WsConnect=2=3" is not FunctionId=n/],
      ['WsConnect', /the value is "WsConnect"/],
      [true, /got true/],
      [[1], /got \[1\]/],
      [{ WsConnect: 'x' }, /WsConnect is "x"/],
    ];
    for (const [value, detail] of bad) {
      assert.throws(() => settingsFor({ provisionedConcurrency: value }), /context "provisionedConcurrency" must be/, JSON.stringify(value));
      assert.throws(() => settingsFor({ provisionedConcurrency: value }), detail, JSON.stringify(value));
    }
    assert.throws(() => buildApp({ provisionedConcurrency: 'WsConnect=x' }), /context "provisionedConcurrency"/, 'the real app refuses it too');
  });

  it('an unknown function id fails synth, naming the key and the id', () => {
    assert.throws(
      () => buildApp({ provisionedConcurrency: 'Connect=2,Login=1' }),
      /context "provisionedConcurrency" names "Connect", not a function of this stack; functions: .*Login/,
    );
    assert.throws(() => buildApp({ provisionedConcurrency: { SendMessage: 1 } }), /names "SendMessage"/);
  });
});

// ---- budget and checks ----------------------------------------------------------------------------------------

describe('resource budget and cdk-nag with every option on', () => {
  it(`the main template stays within ${RESOURCE_BUDGET} resources, each area's within ${AREA_BUDGET} (CloudFormation allows 500)`, (t) => {
    const fns = functionIds(everything).length;
    const mainCount = (x: Synth) => Object.keys(Template.fromStack(x.stack).toJSON().Resources).length;
    const areas = (x: Synth) => functionAreaStacks(x.stack).map((a) => [a.node.id, Object.keys(Template.fromStack(a).toJSON().Resources).length] as const);
    t.diagnostic(`main template: ${mainCount(plain)} by default, ${mainCount(everything)} with every option on (${fns} functions)`);
    t.diagnostic(`areas with every option on: ${JSON.stringify(Object.fromEntries(areas(everything)))}`);
    t.diagnostic(`with every option on, all function templates together: ${JSON.stringify(countByType(everything))}`);
    assert.ok(mainCount(everything) <= RESOURCE_BUDGET, `${mainCount(everything)} resources in the main template`);
    for (const [area, count] of areas(everything)) assert.ok(count <= AREA_BUDGET, `${area}: ${count} resources`);
    // every API function is in an area; the main template keeps only the stack's own (the account-role setup)
    assert.equal(
      Object.values(Template.fromStack(everything.stack).toJSON().Resources).filter((r) => (r as CfnJson).Type === 'AWS::Lambda::Function').length,
      Object.keys(everything.stack.operatorFunctions).length,
    );
    // What the options cost over all templates: per API function a deployment group and its two
    // rollback alarms, per stack an application and a role (canary); backups a vault, a plan, a
    // selection and its role; provisioned concurrency and the alarm email nothing here.
    assert.equal(countOf(everything) - countOf(plain), 3 * Object.keys(everything.stack.functions).length + 2 + 4);
    // What a function costs by default: function, role (grants inline), log group, version, alias.
    const perFunction = ['AWS::Lambda::Function', 'AWS::IAM::Role', 'AWS::Logs::LogGroup', 'AWS::Lambda::Version', 'AWS::Lambda::Alias'];
    for (const type of perFunction) assert.ok((countByType(plain)[type] ?? 0) >= fns, type);
    assert.equal(countByType(plain)['AWS::IAM::Policy'], 1, 'no DefaultPolicy per role: only the OTP worker SMS policy');
  });

  it('synthesis passes cdk-nag with every option on; each acknowledgement matches a real finding', () => {
    assert.deepEqual(
      ofType(everything, 'AWS::IAM::Role')
        .map(([id]) => id)
        .filter((id) => id.startsWith('Canary')),
      [logicalId(everything, everything.stack.canary!.role)],
    );
    const raw = rawNagFindings(() => buildApp(everythingContext));
    // cdk-nag's only: the Control Tower (cfn-guard) ones are checked by tests/infra/guard.test.ts.
    const acks = acknowledgements(everything.built.app).filter((a) => !isControlTowerAcknowledgement(a));
    for (const ack of acks) {
      const where = `${ack.rule} @ ${ack.construct.node.path}`;
      assert.ok(CfnResource.isCfnResource(ack.construct), where);
      assert.ok(
        raw.some((f) => f.rule === ack.rule && f.path === ack.construct.node.path),
        `${where}: suppresses a real finding`,
      );
    }
    const roleAck = acks.filter((a) => a.construct.node.path.includes('CanaryDeploymentRole'));
    assert.deepEqual(
      roleAck.map((a) => a.rule),
      ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]'],
    );
    const unacknowledged = raw.filter((f) => !acks.some((a) => a.rule === f.rule && a.construct.node.path === f.path));
    assert.deepEqual(unacknowledged, []);
  });
});
