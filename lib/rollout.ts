// Rollout settings: how a deploy reaches each function's `live` alias (at once, or by a CodeDeploy
// canary) and which aliases keep warm execution environments. bin/nexchat.ts reads them from context.
import type { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { RouteFunction } from './constructs/route-function.ts';
import { routes } from './routes.ts';

export interface RolloutSettings {
  /** Shift every function's `live` alias by a CodeDeploy canary (10% for 5 minutes, then the rest). @default false */
  readonly canary?: boolean;
  /** Function id -> provisioned concurrency on its `live` alias; functions not named get none. @default {} */
  readonly provisionedConcurrency?: Readonly<Record<string, number>>;
}

/**
 * The alarms that stop and roll back one function's canary deployment (1 to 10). They must not depend
 * on the function's alias (the alias's update policy names the deployment group, which names them):
 * use FunctionName-level metrics, or Alias.metric*(), which names the alias by string. The default
 * in the stack is the monitoring stack's canary, errors and duration alarms of the function.
 */
export type RolloutAlarms = (fn: RouteFunction) => readonly IAlarm[];

/**
 * The hot path, where a cold start is felt: opening a socket (the $connect route and its ticket
 * authorizer), sending a message, signing in. A bare number in context applies to these.
 */
export const hotFunctionIds: readonly string[] = [
  routes.wsConnect.id,
  ...(routes.wsConnect.authorizer ? [routes.wsConnect.authorizer.id] : []),
  routes.sendMessage.id,
  routes.login.id,
];
