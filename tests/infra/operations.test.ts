// Operator-facing infrastructure: the API Gateway account-role custom resource (a first deploy in a
// fresh account works with no flag) and AWS Backup for the tables users would miss.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { allRoutes } from '../../lib/routes.ts';
import { BACKED_UP_TABLES, DEFAULT_BACKUP_RETENTION_DAYS } from '../../lib/constructs/backups.ts';
import { API_GATEWAY_ACCOUNT_FUNCTION } from '../../lib/nexchat-stack.ts';
import { asArray, buildApp, logicalId, ofType, policyStatements, res, synthesize, type Json, type Synth } from '../support/cdk-app.ts';

const getAtt = (v: Json) => (Array.isArray(v?.['Fn::GetAtt']) ? (v['Fn::GetAtt'] as string[]) : undefined);

let dev: Synth;
let prod: Synth;
before(() => {
  dev = synthesize(buildApp(), allRoutes);
  prod = synthesize(buildApp({ stage: 'prod', account: '123456789012', region: 'eu-west-1' }), allRoutes);
});

describe('API Gateway account CloudWatch role (custom resource, no flag)', () => {
  it('every stage has the custom resource; the WebSocket stage (access logs) waits for it; no AWS::ApiGateway::Account', () => {
    for (const s of [dev, prod]) {
      const crs = ofType(s, 'Custom::ApiGatewayAccountRole');
      assert.equal(crs.length, 1);
      const [crId] = crs[0]!;
      assert.ok(asArray(res(s, logicalId(s, s.stack.webSocketStage)).DependsOn).includes(crId), 'stage depends on the role being set');
      assert.equal(ofType(s, 'AWS::ApiGateway::Account').length, 0, 'a plain Account resource would overwrite a working role of another stage');
    }
  });

  it('the role it sets is assumable by API Gateway only, carries the documented managed policy and is retained', () => {
    const [, cr] = ofType(dev, 'Custom::ApiGatewayAccountRole')[0]!;
    const roleId = getAtt(cr.Properties.RoleArn)?.[0];
    assert.ok(roleId, 'RoleArn is the role created here');
    const role = res(dev, roleId);
    assert.equal(role.Type, 'AWS::IAM::Role');
    assert.equal(role.DeletionPolicy, 'Retain', 'other stages keep logging if this stack goes');
    assert.deepEqual(role.Properties.AssumeRolePolicyDocument.Statement, [
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' } },
    ]);
    assert.deepEqual(role.Properties.ManagedPolicyArns, [
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs']] },
    ]);
  });

  it('its function may read and patch the account setting, pass only that role to API Gateway, and read roles; nothing else', () => {
    const [, cr] = ofType(dev, 'Custom::ApiGatewayAccountRole')[0]!;
    // CloudFormation calls the function's live alias
    const alias = res(dev, cr.Properties.ServiceToken.Ref as string);
    assert.equal(alias.Type, 'AWS::Lambda::Alias');
    const fnId = alias.Properties.FunctionName.Ref as string;
    assert.ok(fnId);
    const fn = res(dev, fnId);
    assert.equal(fn.Type, 'AWS::Lambda::Function');
    assert.match(fnId, new RegExp(`^${API_GATEWAY_ACCOUNT_FUNCTION}`));
    const roleId = getAtt(fn.Properties.Role)?.[0];
    const statements = policyStatements(dev.resources, roleId);
    const byAction = (action: string) => statements.filter((st) => asArray<string>(st.Action).includes(action));
    assert.deepEqual(asArray(byAction('apigateway:PATCH')[0]?.Action).sort(), ['apigateway:GET', 'apigateway:PATCH']);
    assert.match(JSON.stringify(byAction('apigateway:PATCH')[0].Resource), /apigateway:.*::\/account"/);
    const pass = byAction('iam:PassRole');
    assert.equal(pass.length, 1);
    assert.deepEqual(pass[0].Resource, { 'Fn::GetAtt': [getAtt(cr.Properties.RoleArn)![0], 'Arn'] });
    assert.deepEqual(pass[0].Condition, { StringEquals: { 'iam:PassedToService': 'apigateway.amazonaws.com' } });
    assert.match(JSON.stringify(byAction('iam:GetRole')[0].Resource), /:iam::.*:role\/\*"/);
    // Logs (its own group) and X-Ray come with every function of RouteFunction.
    const actions = statements.flatMap((st) => asArray<string>(st.Action)).filter((a) => !/^(logs|xray):/.test(a));
    assert.deepEqual([...new Set(actions)].sort(), ['apigateway:GET', 'apigateway:PATCH', 'iam:GetRole', 'iam:PassRole']);
    assert.equal(fn.Properties.Timeout, 120, 'room for the IAM propagation retries');
  });

  it('the old opt-in flag is refused with a message, so a stale deploy command does not silently mean something', () => {
    assert.throws(() => buildApp({ apiGatewayAccountRole: 'true' }), /"apiGatewayAccountRole" is gone/);
  });
});

describe('AWS Backup (users, keys, messages, moderation)', () => {
  const plans = (s: Synth) => ofType(s, 'AWS::Backup::BackupPlan');

  it('on by default in prod only; context turns it on or off anywhere', () => {
    assert.equal(plans(dev).length, 0);
    assert.equal(plans(prod).length, 1);
    assert.equal(buildApp({ backups: true }).stack.backups !== undefined, true);
    assert.equal(buildApp({ stage: 'prod', backups: 'false' }).stack.backups, undefined);
  });

  it('a daily rule keeps recovery points for the default 35 days, in a retained vault named per stack instance', () => {
    const [, plan] = plans(prod)[0]!;
    const rules = plan.Properties.BackupPlan.BackupPlanRule as Json[];
    assert.equal(rules.length, 1);
    assert.equal(rules[0].ScheduleExpression, 'cron(0 3 * * ? *)');
    assert.deepEqual(rules[0].Lifecycle, { DeleteAfterDays: DEFAULT_BACKUP_RETENTION_DAYS });
    assert.equal(rules[0].CopyActions, undefined);
    const [vaultId, vault] = ofType(prod, 'AWS::Backup::BackupVault')[0]!;
    assert.deepEqual(rules[0].TargetBackupVault, { 'Fn::GetAtt': [vaultId, 'BackupVaultName'] });
    assert.equal(vault.DeletionPolicy, 'Retain');
    assert.match(JSON.stringify(vault.Properties.BackupVaultName), /AWS::StackId/, 'a retained vault never blocks the next stack of the same name');
  });

  it('the selection names exactly the four tables', () => {
    const [, selection] = ofType(prod, 'AWS::Backup::BackupSelection')[0]!;
    const tableIds = (selection.Properties.BackupSelection.Resources as Json[]).map((r) => getAtt(r)?.[0]).sort();
    const expected = BACKED_UP_TABLES.map((id) => logicalId(prod, prod.stack.tables[id])).sort();
    assert.deepEqual(tableIds, expected);
    assert.equal(BACKED_UP_TABLES.length, 4);
  });

  it('retention and an optional cross-region copy come from context', () => {
    const copyVault = 'arn:aws:backup:eu-central-1:123456789012:backup-vault:nexchat-copies';
    const s = synthesize(buildApp({ stage: 'prod', backupRetentionDays: '90', backupCopyVaultArn: copyVault, backupCopyRetentionDays: 30 }), allRoutes);
    const rule = (plans(s)[0]![1].Properties.BackupPlan.BackupPlanRule as Json[])[0];
    assert.deepEqual(rule.Lifecycle, { DeleteAfterDays: 90 });
    assert.deepEqual(rule.CopyActions, [{ DestinationBackupVaultArn: copyVault, Lifecycle: { DeleteAfterDays: 30 } }]);
  });

  it('bad backup context fails synth naming the key', () => {
    assert.throws(() => buildApp({ backups: 'yes' }), /context "backups"/);
    assert.throws(() => buildApp({ backups: true, backupRetentionDays: '0' }), /context "backupRetentionDays"/);
    assert.throws(() => buildApp({ backups: true, backupRetentionDays: 'forever' }), /context "backupRetentionDays"/);
    assert.throws(() => buildApp({ backups: true, backupCopyVaultArn: 'arn:aws:s3:::bucket' }), /context "backupCopyVaultArn"/);
    assert.throws(() => buildApp({ backups: true, backupCopyRetentionDays: 7 }), /"backupCopyVaultArn" is not/);
  });
});

describe('the custom resource bundle', () => {
  it('bundles with the Lambda settings, under the 300 KB budget, with the API Gateway and IAM clients only', async () => {
    const { build } = await import('esbuild');
    const { esbuildOptions } = await import('../../lib/bundling.ts');
    const { fileURLToPath } = await import('node:url');
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const result = await build({
      ...esbuildOptions,
      entryPoints: ['functions/custom-resources/api-gateway-account.ts'],
      absWorkingDir: root,
      write: false,
      outdir: 'out',
      metafile: true,
      logLevel: 'silent',
    });
    const [bytes] = Object.entries(result.metafile.outputs)
      .filter(([path]) => path.endsWith('.mjs'))
      .map(([, o]) => o.bytes);
    assert.ok(bytes && bytes <= 300 * 1024, `${bytes} bytes`);
    const clients = new Set(Object.keys(result.metafile.inputs).flatMap((i) => /node_modules\/@aws-sdk\/(client-[^/]+)\//.exec(i)?.[1] ?? []));
    assert.deepEqual([...clients].sort(), ['client-api-gateway', 'client-iam']);
  });
});
