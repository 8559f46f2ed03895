// AWS Control Tower's proactive controls (cfn-guard) on the real app, the one place the tests run them
// (10-15 s of CPU per app). The manifest app and the options app synthesize with no unacknowledged
// finding; every acknowledgement sits on the one resource it excuses, names one rule and why, and
// matches a finding cfn-guard really made there; every row of lib/policy-acknowledgements.ts is used.
// The log groups' fix is checked too: one customer managed key per stack, rotated, with a narrow key
// policy, kept exactly as long as the log groups. And resources added outside the table are flagged.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CfnResource, Validations } from 'aws-cdk-lib';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { createApp } from '../../bin/nexchat.ts';
import { LOGS_ENCRYPTION_CONTEXT_KEY, LOGS_KEY_ACTIONS } from '../../lib/constructs/log-key.ts';
import { LOG_RETENTION } from '../../lib/constructs/route-function.ts';
import { CONTROL_TOWER_PLUGIN, acknowledgementId, policyAcknowledgements } from '../../lib/policy-acknowledgements.ts';
import { allRoutes, allScheduledJobs } from '../../lib/routes.ts';
import {
  acknowledgements,
  asArray,
  buildApp,
  cdkJson,
  FROM,
  isControlTowerAcknowledgement,
  logicalId,
  ofType,
  everythingContext,
  optionsRoutes,
  sorted,
  synthesize,
  type Json,
  type Synth,
  failedSynthReport,
} from '../support/cdk-app.ts';

/** The cfn-guard part of a validation report: what is still flagged, and what acknowledgements suppressed. */
function guardReport(report: Json): { violations: Json[]; suppressed: Json[] } {
  const plugin = asArray<Json>(report.pluginReports).find((p) => p.pluginName === CONTROL_TOWER_PLUGIN);
  assert.ok(plugin, `the report has a ${CONTROL_TOWER_PLUGIN} section: the plugin ran`);
  return { violations: asArray<Json>(plugin.violations), suppressed: asArray<Json>(plugin.suppressedViolations) };
}

/** "rule @ construct path", one per flagged resource. */
const findingLines = (violations: Json[]) =>
  sorted(violations.flatMap((v) => asArray<Json>(v.violatingConstructs).map((c) => `${v.ruleName} @ ${c.constructPath}`)));

let main: Synth;
let opts: Synth;

before(() => {
  // synthesize() throws, listing them, if any finding is left unacknowledged. The two synthetic
  // routes (notify and push rights the manifest may lack) ride in the default app: with every option
  // on, the manifest's own stack is at 493 of CloudFormation's 500 resources (docs/architecture.md,
  // "Resource budget"), and 18 more would not synthesize at all.
  main = synthesize(buildApp({}, optionsRoutes, { controlTowerChecks: true }), optionsRoutes);
  // every optional feature on (edge stacks in us-east-1, canary, backups, alarm subscribers...)
  opts = synthesize(buildApp(everythingContext, allRoutes, { controlTowerChecks: true }), allRoutes);
});

const apps = () => [
  { name: 'default app (manifest + synthetic routes)', s: main },
  { name: 'every-option app', s: opts },
];

describe('Control Tower rules (cfn-guard)', () => {
  it('both apps: the plugin ran and left no finding unacknowledged', () => {
    for (const { name, s } of apps()) {
      const { violations, suppressed } = guardReport(s.report);
      assert.deepEqual(findingLines(violations), [], name);
      assert.ok(suppressed.length > 0, `${name}: the acknowledged findings are reported as such`);
    }
  });

  for (const { name, s } of [
    { name: 'default app (manifest + synthetic routes)', s: () => main },
    { name: 'options app', s: () => opts },
  ]) {
    it(`${name}: every acknowledgement names one resource, one rule of the table and a reason, and matches a real finding there`, () => {
      const acks = acknowledgements(s().built.app).filter(isControlTowerAcknowledgement);
      const { suppressed } = guardReport(s().report);
      assert.ok(acks.length > 0);
      const rules = new Set(policyAcknowledgements.map((row) => acknowledgementId(row.rule)));
      for (const ack of acks) {
        const path = ack.construct.node.path;
        const where = `${ack.rule} @ ${path}`;
        assert.ok(CfnResource.isCfnResource(ack.construct), `${where}: acknowledged on one CloudFormation resource`);
        assert.ok(rules.has(ack.rule), `${where}: one rule, from the table`);
        assert.ok(ack.reason.length >= 40, `${where}: has a reason`);
        const finding = suppressed.find(
          (v) =>
            acknowledgementId(v.ruleName) === ack.rule &&
            v.acknowledgedAt === path &&
            asArray<Json>(v.violatingConstructs).some((c) => c.constructPath === path),
        );
        assert.ok(finding, `${where}: cfn-guard flagged that resource for that rule (not stale)`);
      }
      for (const v of suppressed) {
        for (const c of asArray<Json>(v.violatingConstructs)) {
          assert.equal(v.acknowledgedAt, c.constructPath, `${v.ruleName} @ ${c.constructPath}: acknowledged on the resource itself, not a parent`);
        }
      }
    });
  }

  it('every row of the table is used, and names the control its rule reports', () => {
    for (const row of policyAcknowledgements) {
      const used = apps().flatMap(({ s }) => guardReport(s.report).suppressed.filter((v) => v.ruleName === row.rule));
      assert.ok(used.length > 0, `${row.control} ${row.rule}: acknowledges a finding in the manifest or options app (else remove the row)`);
      for (const v of used) assert.ok(String(v.description).startsWith(`[${row.control}]`), `${row.rule} reports ${row.control}: ${v.description}`);
    }
    const ids = policyAcknowledgements.map((row) => row.rule);
    assert.equal(new Set(ids).size, ids.length, 'one row per rule');
  });

  it('what is acknowledged, per rule (so a row that grows or shrinks is seen)', () => {
    const counts = (s: Synth) =>
      Object.fromEntries(
        policyAcknowledgements.map((row) => [row.rule, acknowledgements(s.built.app).filter((a) => a.rule === acknowledgementId(row.rule)).length]),
      );
    for (const s of [main, opts]) {
      const functions = Object.keys(s.stack.functions).length;
      const authorized = s.routes.filter((r) => r.kind === 'ws' && r.authorizer).length;
      assert.deepEqual(
        counts(s),
        {
          api_gw_v2_authorization_type_configured_check: s.routes.length - authorized,
          // One per route integration and one per authorizer; the queue workers have none, and the
          // schedules' permissions name their rule by Fn::GetAtt, which the rule reads.
          lambda_function_public_access_prohibited_check: ofType(s, 'AWS::Lambda::Permission').length - allScheduledJobs.length,
          // + the account-role custom resource's function, + the alarm forwarder (with a webhook)
          lambda_inside_vpc_check: functions + 1 + (s === opts ? 1 : 0),
          // the edge's distribution, in the every-option app only
          cloudfront_access_logs_enabled_check: s === opts ? 1 : 0,
          cloudfront_default_root_object_configured_check: s === opts ? 1 : 0,
          cloudfront_origin_failover_enabled_check: s === opts ? 1 : 0,
          // the canary's two rollback alarms per function, in the every-option app only
          cloudwatch_alarm_action_check: s === opts ? 2 * functions : 0,
          // the attachments bucket (SSE-S3, unversioned, no notifications, no Object Lock) and its access
          // log bucket (SSE-S3, not logged itself, no notifications, no Object Lock)
          s3_bucket_default_encryption_kms_check: 2,
          s3_bucket_versioning_enabled_check: 1,
          s3_bucket_logging_enabled_check: 1,
          s3_event_notifications_enabled_check: 2,
          s3_bucket_object_lock_enabled_check: 2,
          // the dead-letter queues of the otp and presence queues
          sqs_dlq_check: 2,
        },
        s.stack.stage,
      );
      assert.equal(ofType(s, 'AWS::Lambda::Permission').length, s.routes.length + authorized + allScheduledJobs.length);
    }
  });
});

// ---- the fix for the log groups -----------------------------------------------------------------------

describe('log groups: a year of retention, encrypted with the stack key', () => {
  const ACCOUNT = '123456789012';
  const REGION = 'eu-west-1';
  let prod: Synth;
  before(() => {
    prod = synthesize(buildApp({ stage: 'prod', account: ACCOUNT, region: REGION }), allRoutes);
  });
  const all = () => [main, opts, prod];

  it('every log group (functions and access logs) keeps a year and is encrypted with the one key of its stack, which rotates', () => {
    assert.equal(LOG_RETENTION, RetentionDays.ONE_YEAR);
    for (const s of all()) {
      const keys = ofType(s, 'AWS::KMS::Key');
      assert.equal(keys.length, 1, `${s.stack.stage}: one key`);
      const [keyId, key] = keys[0]!;
      assert.equal(keyId, logicalId(s, s.stack.logKey));
      assert.equal(key.Properties.EnableKeyRotation, true);
      const groups = ofType(s, 'AWS::Logs::LogGroup');
      // + the API Gateway account-role custom resource's function and the two access log groups
      assert.equal(groups.length, Object.keys(s.stack.functions).length + 3);
      for (const [id, g] of groups) {
        assert.deepEqual(g.Properties.KmsKeyId, { 'Fn::GetAtt': [keyId, 'Arn'] }, `${s.stack.stage} ${id}`);
        assert.equal(g.Properties.RetentionInDays, 365, `${s.stack.stage} ${id}`);
      }
    }
  });

  it('the key is kept exactly as long as the log groups: retained in prod, scheduled for deletion with the stack elsewhere', () => {
    for (const [s, policy] of [
      [main, 'Delete'],
      [opts, 'Delete'],
      [prod, 'Retain'],
    ] as const) {
      const [, key] = ofType(s, 'AWS::KMS::Key')[0]!;
      assert.equal(key.DeletionPolicy, policy, s.stack.stage);
      assert.equal(key.UpdateReplacePolicy, policy, s.stack.stage);
      for (const [id, g] of ofType(s, 'AWS::Logs::LogGroup')) assert.equal(g.DeletionPolicy, key.DeletionPolicy, `${s.stack.stage} ${id} goes with its key`);
    }
  });

  it("key policy: the account's administrators, this region's CloudWatch Logs for this account and region's log groups only, and no grants but AWS services'", () => {
    const join = (...parts: Json[]) => ({ 'Fn::Join': ['', parts] });
    const partition = { Ref: 'AWS::Partition' };
    // Environment-agnostic (the manifest app) and pinned to an account and region (prod here).
    for (const [s, root, logs, logGroups] of [
      [
        main,
        join('arn:', partition, ':iam::', { Ref: 'AWS::AccountId' }, ':root'),
        join('logs.', { Ref: 'AWS::Region' }, '.amazonaws.com'),
        join('arn:', partition, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':log-group:*'),
      ],
      [prod, `arn:aws:iam::${ACCOUNT}:root`, `logs.${REGION}.amazonaws.com`, `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:*`],
    ] as const) {
      const [, key] = ofType(s, 'AWS::KMS::Key')[0]!;
      assert.deepEqual(
        asArray<Json>(key.Properties.KeyPolicy.Statement),
        [
          { Action: 'kms:*', Effect: 'Allow', Principal: { AWS: root }, Resource: '*' },
          {
            Sid: 'CloudWatchLogsOfThisAccountAndRegion',
            Action: sorted(LOGS_KEY_ACTIONS),
            Effect: 'Allow',
            Principal: { Service: logs },
            Resource: '*',
            Condition: { ArnLike: { [LOGS_ENCRYPTION_CONTEXT_KEY]: logGroups } },
          },
          {
            Sid: 'GrantsOnlyForAwsServices',
            Action: 'kms:CreateGrant',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Resource: '*',
            Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
          },
        ],
        s.stack.stage,
      );
    }
    // Spelled out here, so a wider list is a test failure.
    assert.deepEqual(sorted(LOGS_KEY_ACTIONS), ['kms:Decrypt*', 'kms:Describe*', 'kms:Encrypt*', 'kms:GenerateDataKey*', 'kms:ReEncrypt*']);
  });
});

// ---- the tests can fail ---------------------------------------------------------------------------------

describe('the rules are wired in, and the table is narrow', () => {
  it('`cdk synth` (createApp, default options) flags resources no row covers, even where a look-alike is acknowledged', () => {
    // The app `cdk synth` builds, on one route to keep cfn-guard quick, plus what another engineer
    // might add: a log group without the stack key and a Lambda not made by RouteFunction. That
    // function also carries an acknowledgement without the plugin's namespace, which matches nothing.
    const { app, stack } = createApp(
      { context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], sesFromAddress: FROM, stage: 'stray' } },
      allRoutes.filter((r) => r.kind === 'http').slice(0, 1),
    );
    const strayLogs = new LogGroup(stack, 'StrayLogs', { retention: RetentionDays.ONE_WEEK });
    // CDK gives plugins the top-level templates only; nested ones (monitoring) must be checked too.
    new LogGroup(stack.monitoring, 'StrayNestedLogs', { retention: RetentionDays.ONE_WEEK });
    const strayFunction = new LambdaFunction(stack, 'StrayFunction', {
      runtime: Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => undefined;'),
      logGroup: strayLogs,
    });
    Validations.of(strayFunction.node.defaultChild!).acknowledge({
      id: 'lambda_inside_vpc_check',
      reason: 'Without the cdk-validator-cfnguard:: namespace this is stored as Annotation::lambda_inside_vpc_check.',
    });

    const { violations, suppressed } = guardReport(JSON.parse(failedSynthReport(app)));
    assert.deepEqual(findingLines(violations), [
      'cloudwatch_log_group_encrypted_check @ NexChat-stray/Monitoring/StrayNestedLogs/Resource',
      'cloudwatch_log_group_encrypted_check @ NexChat-stray/StrayLogs/Resource',
      'cloudwatch_log_group_retention_period_check @ NexChat-stray/Monitoring/StrayNestedLogs/Resource',
      'cloudwatch_log_group_retention_period_check @ NexChat-stray/StrayLogs/Resource',
      'lambda_inside_vpc_check @ NexChat-stray/StrayFunction/Resource',
    ]);
    assert.ok(
      suppressed.some((v) => v.ruleName === 'lambda_inside_vpc_check'),
      "the stack's own functions are still acknowledged: the stray one is flagged because no row covers it",
    );
  });
});
