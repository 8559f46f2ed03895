// CDK app entry: one NexChat stack per stage (`cdk synth -c stage=prod`), checked by cdk-nag's
// AwsSolutions and Serverless packs and by AWS Control Tower's proactive controls (cfn-guard; what
// they flag on purpose is acknowledged in lib/policy-acknowledgements.ts). Per-deployment settings
// come from context and are validated here, so a typo fails synth instead of a deployed function.
// Tests build the app through createApp().
import { App, Tags, Validations, type AppProps, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { Node } from 'constructs';
import { parseOrigins } from '../lib/cors.ts';
import { EMAIL_PATTERN, readFlag, readOptionalString, readOptionalWholeNumber } from '../lib/context.ts';
import { OTP_REQUIRED_FOR_VALUES, PROD_STAGE, type DeploymentSettings, type OtpRequiredFor } from '../lib/constructs/route-function.ts';
import { readMonitoringSettings } from '../lib/constructs/monitoring.ts';
import { readEdgeSettings } from '../lib/constructs/edge.ts';
import { NexChatStack } from '../lib/nexchat-stack.ts';
import { readBackupSettings } from '../lib/constructs/backups.ts';
import { acknowledgePolicyFindings, controlTowerChecks } from '../lib/policy-acknowledgements.ts';
import { hotFunctionIds, type RolloutSettings } from '../lib/rollout.ts';
import type { Route } from '../lib/routes.ts';

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,23}$/;
const SES_IDENTITY_ARN_PATTERN = /^arn:aws[a-z-]*:ses:[a-z0-9-]+:\d{12}:identity\/[^\s*]+$/;
const ACCOUNT_PATTERN = /^\d{12}$/;
const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
/** The only stage that may keep cdk.json's placeholder From address (RFC 2606 reserves .invalid). */
const PLACEHOLDER_STAGE = 'dev';

export interface NexChatApp {
  readonly app: App;
  readonly stack: NexChatStack;
}

export interface CreateAppOptions {
  /**
   * Run the Control Tower rules (cfn-guard) at synth. Only tests turn them off, to spare seconds of
   * cfn-guard per synthesized app; tests/infra/guard.test.ts runs them. Not a context key: `cdk synth`
   * always runs them.
   * @default true
   */
  readonly controlTowerChecks?: boolean;
}

/** `routes` is for tests (synthetic routes the manifest does not have yet); deployments use the manifest. */
export function createApp(props?: AppProps, routes?: readonly Route[], options: CreateAppOptions = {}): NexChatApp {
  const app = new App(props);
  const stage: unknown = app.node.tryGetContext('stage') ?? 'dev';
  if (typeof stage !== 'string' || !STAGE_PATTERN.test(stage)) {
    throw new Error(`context "stage" must match ${STAGE_PATTERN} (it names the stack and the WebSocket stage), got ${JSON.stringify(stage)}`);
  }
  // Environment-agnostic unless context pins it: synth needs no AWS credentials, and `cdk deploy`
  // picks the account and region from the caller's profile. A pinned stage refuses another account.
  const env = readEnvironment(app.node);
  if (app.node.tryGetContext('apiGatewayAccountRole') !== undefined) {
    throw new Error(
      'context "apiGatewayAccountRole" is gone: every stage now sets API Gateway\'s account CloudWatch Logs role itself, only where the account has no working one. Drop the -c apiGatewayAccountRole flag.',
    );
  }
  const stack = new NexChatStack(app, `NexChat-${stage}`, {
    stage,
    ...(env ? { env } : {}),
    terminationProtection: stage === PROD_STAGE,
    description: `NexChat ${stage}: serverless E2E-encrypted chat backend`,
    settings: readDeploymentSettings(app.node),
    backups: readBackupSettings(app.node, stage),
    monitoring: readMonitoringSettings(app.node),
    rollout: readRolloutSettings(app.node),
    edge: readEdgeSettings(app.node),
    ...(routes ? { routes } : {}),
  });
  Tags.of(app).add('project', 'nexchat');
  Tags.of(app).add('stage', stage);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  if (options.controlTowerChecks ?? true) Validations.of(app).addPlugins(controlTowerChecks());
  // Applied whether or not the plugin runs, so every build carries the same acknowledgements.
  acknowledgePolicyFindings(app);
  return { app, stack };
}

/** The range functions/core/config.ts accepts for MESSAGE_RETENTION_DAYS. */
const MESSAGE_RETENTION_DAYS_RANGE = [1, 3650] as const;

/**
 * Context -> settings: otpRequiredFor (default "register"), jwtIssuer, sesFromAddress,
 * sesIdentityArn, corsOrigins and messageRetentionDays. Throws, naming the key, on any value the functions would not accept.
 */
export function readDeploymentSettings(node: Node): DeploymentSettings {
  const otpRequiredFor = readOtpRequiredFor(node.tryGetContext('otpRequiredFor'));
  const jwtIssuer = readOptionalString(node, 'jwtIssuer', /^\S{1,256}$/, 'a non-empty issuer without spaces, e.g. https://chat.example.com');
  const sesFromAddress = readOptionalString(node, 'sesFromAddress', EMAIL_PATTERN, 'a bare email address, e.g. no-reply@example.com');
  const sesIdentityArn = readOptionalString(
    node,
    'sesIdentityArn',
    SES_IDENTITY_ARN_PATTERN,
    'an SES identity ARN, e.g. arn:aws:ses:eu-west-1:123456789012:identity/example.com',
  );
  const messageRetentionDays = readOptionalWholeNumber(node, 'messageRetentionDays', ...MESSAGE_RETENTION_DAYS_RANGE);
  const corsOrigins = parseOrigins(readOptionalString(node, 'corsOrigins', /^\S+$/, 'comma-separated origins, e.g. https://app.example.com'));
  const stage: unknown = node.tryGetContext('stage') ?? PLACEHOLDER_STAGE;
  if (sesFromAddress && /\.invalid$/i.test(sesFromAddress) && stage !== PLACEHOLDER_STAGE) {
    throw new Error(
      `context "sesFromAddress" is ${JSON.stringify(sesFromAddress)}, a placeholder that cannot receive or send mail; stage ${JSON.stringify(stage)} needs a real From address (-c sesFromAddress=no-reply@example.com). Only "${PLACEHOLDER_STAGE}" may keep it.`,
    );
  }
  if (sesIdentityArn && !sesFromAddress) {
    throw new Error('context "sesIdentityArn" is set but "sesFromAddress" is not: the functions need the From address too');
  }
  return {
    otpRequiredFor,
    ...(jwtIssuer ? { jwtIssuer } : {}),
    ...(corsOrigins.length ? { corsOrigins } : {}),
    ...(messageRetentionDays ? { messageRetentionDays } : {}),
    ...(sesFromAddress ? { notify: { sesFromAddress, ...(sesIdentityArn ? { sesIdentityArn } : {}) } } : {}),
  };
}

/**
 * Context -> rollout: canary (true/false, default false) and provisionedConcurrency: a whole number
 * for each hot function (lib/rollout.ts hotFunctionIds), or "FunctionId=n,FunctionId=n" (an object
 * { "FunctionId": n } in cdk.json); 0 or absent means none. The stack checks that the ids exist.
 */
export function readRolloutSettings(node: Node): RolloutSettings {
  return { canary: readFlag(node, 'canary'), provisionedConcurrency: readProvisionedConcurrency(node.tryGetContext('provisionedConcurrency')) };
}

function readProvisionedConcurrency(value: unknown): Record<string, number> {
  if (value === undefined) return {};
  const fail = (why: string) =>
    new Error(
      `context "provisionedConcurrency" must be a whole number for each of ${hotFunctionIds.join(', ')}, or "FunctionId=n,FunctionId=n" with whole numbers n >= 0; ${why}`,
    );
  const count = (raw: unknown, where: string): number => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || n < 0) throw fail(`${where} is ${JSON.stringify(raw)}`);
    return n;
  };
  let entries: [string, unknown][];
  if (typeof value === 'number' || (typeof value === 'string' && !value.includes('='))) {
    const n = count(value, 'the value');
    entries = hotFunctionIds.map((id) => [id, n]);
  } else if (typeof value === 'string') {
    entries = value.split(',').map((pair) => {
      const [id = '', raw, ...rest] = pair.split('=').map((part) => part.trim());
      if (!/^[A-Za-z][A-Za-z0-9]*$/.test(id) || raw === undefined || rest.length > 0) throw fail(`${JSON.stringify(pair.trim())} is not FunctionId=n`);
      return [id, raw];
    });
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    entries = Object.entries(value);
  } else {
    throw fail(`got ${JSON.stringify(value)}`);
  }
  const result: Record<string, number> = {};
  for (const [id, raw] of entries) {
    if (id in result) throw fail(`${id} is given twice`);
    result[id] = count(raw, id);
  }
  return Object.fromEntries(Object.entries(result).filter(([, n]) => n > 0));
}

/** "none" | "register" | "login" | "register,login" (either order, spaces allowed); default "register". */
function readOtpRequiredFor(value: unknown): OtpRequiredFor {
  if (value === undefined) return 'register';
  const fail = () =>
    new Error(`context "otpRequiredFor" must be one of ${OTP_REQUIRED_FOR_VALUES.map((v) => `"${v}"`).join(', ')}; got ${JSON.stringify(value)}`);
  if (typeof value !== 'string') throw fail();
  const flows = value.split(',').map((f) => f.trim());
  if (flows.length === 1 && flows[0] === 'none') return 'none';
  const known = ['register', 'login'];
  if (new Set(flows).size !== flows.length || !flows.every((f) => known.includes(f))) throw fail();
  return known.filter((f) => flows.includes(f)).join(',') as OtpRequiredFor;
}

/** Context "account" and "region" pin the stack's environment (either or both); absent, it stays agnostic. */
function readEnvironment(node: Node): Environment | undefined {
  const account = readOptionalString(node, 'account', ACCOUNT_PATTERN, 'a 12-digit AWS account id, e.g. 123456789012');
  const region = readOptionalString(node, 'region', REGION_PATTERN, 'an AWS region, e.g. eu-west-1');
  if (!account && !region) return undefined;
  return { ...(account ? { account } : {}), ...(region ? { region } : {}) };
}

if (import.meta.main) createApp().app.synth();
