// CDK app entry: one NexChat stack per stage (`cdk synth -c stage=prod`), checked by cdk-nag's
// AwsSolutions and Serverless packs. Tests build the same app through createApp().
import { App, Tags, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { NexChatStack } from '../lib/nexchat-stack.ts';

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,23}$/;

export interface NexChatApp {
  readonly app: App;
  readonly stack: NexChatStack;
}

export function createApp(props?: AppProps): NexChatApp {
  const app = new App(props);
  const stage: unknown = app.node.tryGetContext('stage') ?? 'dev';
  if (typeof stage !== 'string' || !STAGE_PATTERN.test(stage)) {
    throw new Error(`context "stage" must match ${STAGE_PATTERN} (it names the stack and the WebSocket stage), got ${JSON.stringify(stage)}`);
  }
  // Environment-agnostic on purpose: synth needs no AWS credentials; `cdk deploy` picks the
  // account and region from the caller's profile.
  const stack = new NexChatStack(app, `NexChat-${stage}`, {
    stage,
    description: `NexChat ${stage}: serverless E2E-encrypted chat backend`,
  });
  Tags.of(app).add('project', 'nexchat');
  Tags.of(app).add('stage', stage);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { app, stack };
}

if (import.meta.main) createApp().app.synth();
