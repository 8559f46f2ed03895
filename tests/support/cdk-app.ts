// Synthesis plumbing shared by the infra tests: the app exactly as `cdk synth` builds it (minus
// esbuild), the options app's context and synthetic routes, a synthesis that turns a failed
// validation report into readable lines, template lookups, and the raw findings / acknowledgements of
// the validation plugins.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NestedStack, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { createApp, type CreateAppOptions, type NexChatApp } from '../../bin/nexchat.ts';
import { CONTROL_TOWER_PLUGIN } from '../../lib/policy-acknowledgements.ts';
import { allRoutes, type HttpRoute, type Route } from '../../lib/routes.ts';

/** CloudFormation JSON is untyped; these tests read it structurally. */
export type Json = any;

export interface CfnJson {
  Type: string;
  Properties?: Json;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

export const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };

/** The From address every test deployment uses; the manifest may have notify routes, which need one. */
export const FROM = 'no-reply@mail.example.com';

/**
 * The app exactly as `cdk synth` builds it (same context, same nag packs, same acknowledgements),
 * minus esbuild and, unless asked for, the Control Tower rules: cfn-guard takes 10-15 s of CPU per
 * synthesized app, so tests/infra/guard.test.ts is the one place that runs it.
 */
export function buildApp(extraContext: Record<string, unknown> = {}, routes?: readonly Route[], options: CreateAppOptions = {}): NexChatApp {
  return createApp({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], sesFromAddress: FROM, ...extraContext } }, routes, {
    controlTowerChecks: false,
    ...options,
  });
}

/** A route the manifest may not have yet: public, OTP sender, sized, on tables with and without GSIs. */
export const syntheticNotifyRoute: HttpRoute = {
  kind: 'http',
  id: 'TestSendOtp',
  method: 'POST',
  path: '/api/test/otp',
  handler: 'functions/http/system/get-health.ts',
  access: 'public',
  tables: { ephemeral: 'readwrite', users: 'read' },
  notify: true,
  memoryMb: 512,
  timeoutSeconds: 15,
  throttle: { rate: 5, burst: 10 },
  summary: 'Synthetic OTP sender (tests only)',
  input: {},
  output: {},
};

/** Another route the manifest may not have: HTTP, yet it pushes to sockets (needs @connections too). */
export const syntheticPushRoute: HttpRoute = {
  kind: 'http',
  id: 'TestPush',
  method: 'POST',
  path: '/api/test/push',
  handler: 'functions/http/system/get-health.ts',
  access: 'public',
  tables: { connections: 'read' },
  manageConnections: true,
  throttle: { rate: 5, burst: 10 },
  summary: 'Synthetic HTTP route that posts to WebSocket connections (tests only)',
  input: {},
  output: {},
};

/** Context of the options app (the infra tests' second app): every optional setting given, the flow list in the other order and spaced. */
export const optionsContext = {
  stage: 'opts',
  otpRequiredFor: 'login, register',
  jwtIssuer: 'https://chat.example.com',
  corsOrigins: 'https://app.example.com,http://localhost:5173',
  messageRetentionDays: '30',
};

/**
 * Every optional feature on at once: the options above, a pinned environment, the edge (CloudFront +
 * WAF, whose firewall and log stacks live in us-east-1), the canary, provisioned concurrency,
 * backups with a cross-region copy, and both alarm subscribers. "Done" for the operator issue means
 * this synthesizes clean under cdk-nag and the Control Tower rules.
 */
export const everythingContext = {
  ...optionsContext,
  stage: 'every',
  account: '123456789012',
  region: 'eu-west-1',
  edgeDomain: 'chat.example.com',
  edgeCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
  edgeOriginCertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/66666666-7777-8888-9999-000000000000',
  edgeHostedZoneId: 'Z0123456789ABCDEFGHIJ',
  edgeHostedZoneName: 'example.com',
  canary: 'true',
  provisionedConcurrency: '2',
  backups: 'true',
  backupCopyVaultArn: 'arn:aws:backup:eu-central-1:123456789012:backup-vault:nexchat-copies',
  alarmEmail: 'oncall@example.com',
  alarmWebhookSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:nexchat/alarm-webhook-AbCdEf',
};

/** The options app's routes: the manifest's and the two synthetic ones. */
export const optionsRoutes: readonly Route[] = [...allRoutes, syntheticNotifyRoute, syntheticPushRoute];

export const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
export const sorted = (values: Iterable<string>) => [...values].sort();

export interface Synth {
  readonly built: NexChatApp;
  readonly stack: NexChatApp['stack'];
  readonly template: Template;
  readonly resources: Record<string, CfnJson>;
  readonly report: Json;
  readonly routes: readonly Route[];
}

/** The violations in a validation report, one line each. */
/**
 * Synthesizes an app that must fail validation, and returns the text of the validation report the
 * error names (the report is read, not printed).
 */
export function failedSynthReport(app: { synth(): unknown }): string {
  let message = '';
  const consoleError = console.error;
  console.error = () => undefined;
  try {
    assert.throws(
      () => app.synth(),
      (e: Error) => ((message = e.message), /Validation failed/.test(e.message)),
    );
  } finally {
    console.error = consoleError;
  }
  const reportPath = /\S+validation-report\.json/.exec(message)?.[0];
  assert.ok(reportPath, 'the error names the report');
  return readFileSync(reportPath, 'utf8');
}

export function violationLines(report: Json, severities: readonly string[]): string[] {
  return asArray<Json>(report.pluginReports).flatMap((p) =>
    asArray<Json>(p.violations)
      .filter((v) => severities.includes(v.severity))
      .map(
        (v) =>
          `${v.severity} ${v.ruleName} @ ${asArray<Json>(v.violatingConstructs)
            .map((c) => c.constructPath)
            .join(', ')}`,
      ),
  );
}

/**
 * Synthesis runs the registered validation plugins (cdk-nag) and throws on a failed report. Note
 * that cdk-nag 3.0.2 fails a report on warnings too, so an unacknowledged warning also lands here.
 */
export function synthesize(built: NexChatApp, routes: readonly Route[]): Synth {
  let assembly;
  try {
    assembly = built.app.synth();
  } catch (error) {
    const reportPath = /\S+validation-report\.json/.exec(String(error))?.[0];
    if (!reportPath) throw error;
    const lines = violationLines(JSON.parse(readFileSync(reportPath, 'utf8')), ['error', 'fatal', 'warning']);
    throw new Error(`synthesis failed validation:\n  ${lines.join('\n  ')}`, { cause: error });
  }
  const flat = flattenedTemplate(built.stack);
  const template = Template.fromJSON(flat);
  return {
    built,
    stack: built.stack,
    template,
    resources: flat.Resources,
    report: JSON.parse(readFileSync(`${assembly.directory}/validation-report.json`, 'utf8')),
    routes,
  };
}

export const logicalId = (_s: Synth, c: IConstruct) => Stack.of(c).getLogicalId((c.node.defaultChild ?? c) as CfnElement);

/** The nested stacks that hold the functions, one per area of the handlers (lib/nexchat-stack.ts functionArea). */
export const functionAreaStacks = (stack: Stack): NestedStack[] =>
  stack.node.children.filter((c): c is NestedStack => c instanceof NestedStack && c.node.id.endsWith('Functions'));

/**
 * The main template as if the functions' nested stacks were part of it: their resources join the
 * main template's, a nested stack's parameter reads as the value its parent passes, and a parent's
 * read of a nested output as that output's value. The tests then check grants, aliases, routes and
 * integrations the same way wherever CloudFormation keeps them. (Monitoring stays its own template.)
 */
export function flattenedTemplate(stack: Stack): { Resources: Record<string, CfnJson>; [key: string]: unknown } {
  const main = Template.fromStack(stack).toJSON() as { Resources: Record<string, CfnJson>; [key: string]: unknown };
  const outputs = new Map<string, unknown>(); // "<nested resource id>.Outputs.<name>" -> value
  const nested: { resources: Record<string, CfnJson>; parameters: Record<string, unknown> }[] = [];
  for (const area of functionAreaStacks(stack)) {
    const t = Template.fromStack(area).toJSON() as { Resources: Record<string, CfnJson>; Outputs?: Record<string, { Value: unknown }> };
    const resourceId = stack.getLogicalId(area.nestedStackResource as CfnElement);
    for (const [name, output] of Object.entries(t.Outputs ?? {})) outputs.set(`${resourceId}.Outputs.${name}`, output.Value);
    nested.push({ resources: t.Resources, parameters: (main.Resources[resourceId]?.Properties?.Parameters ?? {}) as Record<string, unknown> });
    delete main.Resources[resourceId];
  }
  const substitute = (value: unknown, parameters: Record<string, unknown>): unknown => {
    if (Array.isArray(value)) return value.map((v) => substitute(v, parameters));
    if (value === null || typeof value !== 'object') return value;
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'Ref' && typeof o.Ref === 'string' && o.Ref in parameters) return substitute(parameters[o.Ref], {});
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt' && Array.isArray(o['Fn::GetAtt'])) {
      const [id, attribute] = o['Fn::GetAtt'] as [string, string];
      const found = outputs.get(`${id}.${attribute}`);
      if (found !== undefined) return found;
    }
    return Object.fromEntries(keys.map((k) => [k, substitute(o[k], parameters)]));
  };
  const resources: Record<string, CfnJson> = {};
  for (const [id, r] of Object.entries(main.Resources)) resources[id] = substitute(r, {}) as CfnJson;
  for (const n of nested) {
    for (const [id, r] of Object.entries(n.resources)) {
      assert.ok(!(id in resources), `logical id ${id} is used in two templates`);
      resources[id] = substitute(r, n.parameters) as CfnJson;
    }
  }
  return { ...main, Resources: resources };
}
export function res(s: Synth, id: string): CfnJson {
  const r = s.resources[id];
  assert.ok(r, `resource ${id} is in the template`);
  return r;
}
export const ofType = (s: Synth, type: string) => Object.entries(s.resources).filter(([, r]) => r.Type === type);

/**
 * The IAM statements of a template: every AWS::IAM::Policy and every role's inline policies (a
 * function role keeps its grants inline). With `roleId`, only that role's: its inline policies and
 * the AWS::IAM::Policy resources attached to it.
 */
export function policyStatements(resources: Record<string, CfnJson>, roleId?: string): Json[] {
  const statements = (document: Json): Json[] => asArray<Json>(document?.Statement);
  const isRole = (ref: Json) => typeof ref === 'object' && ref !== null && ref.Ref === roleId;
  return Object.entries(resources).flatMap(([id, r]) => {
    if (r.Type === 'AWS::IAM::Role' && (roleId === undefined || id === roleId)) {
      return asArray<Json>(r.Properties?.Policies).flatMap((p) => statements(p.PolicyDocument));
    }
    if (r.Type === 'AWS::IAM::Policy' && (roleId === undefined || asArray<Json>(r.Properties?.Roles).some(isRole))) {
      return statements(r.Properties?.PolicyDocument);
    }
    return [];
  });
}
export interface Finding {
  readonly rule: string;
  readonly path: string;
  readonly severity: string;
}

/** What the nag packs report when every acknowledgement is ignored: the raw findings. */
export function rawNagFindings(build: () => NexChatApp): Finding[] {
  const acknowledge = Validations.prototype.acknowledge;
  Validations.prototype.acknowledge = () => undefined;
  try {
    const { app } = build();
    return [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
      pack
        .validateScope(app)
        .violations.flatMap((v) => v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath ?? '?', severity: v.severity ?? 'error' }))),
    );
  } finally {
    Validations.prototype.acknowledge = acknowledge;
  }
}

export interface Acknowledgement {
  readonly rule: string;
  readonly reason: string;
  readonly construct: IConstruct;
}

/** Acknowledgements of a Control Tower (cfn-guard) rule; the rest are cdk-nag's. */
export const isControlTowerAcknowledgement = (a: Acknowledgement) => a.rule.startsWith(`${CONTROL_TOWER_PLUGIN}::`);

export function acknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .map(([id, reason]) => ({ rule: id.replace(/^annotation::/i, ''), reason, construct })),
  );
}
