// The stack's one customer managed KMS key for CloudWatch Logs: every log group (function logs and
// API access logs) is encrypted with it. Its key policy lets the CloudWatch Logs service of this
// region use it only for log groups of this account and region, and lets no one create grants on it
// for anything but an AWS service.
import { ArnFormat, Stack } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { logRemovalPolicy } from './route-function.ts';

/** What CloudWatch Logs needs on the key (the list of the CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS"). */
export const LOGS_KEY_ACTIONS = ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'] as const;

/** The encryption-context key CloudWatch Logs sends with every request: the ARN of the log group. */
export const LOGS_ENCRYPTION_CONTEXT_KEY = 'kms:EncryptionContext:aws:logs:arn';

/**
 * Rotation on (yearly; old key material stays, so older log events stay readable). Removal follows
 * the log groups (logRemovalPolicy): in prod the key is retained with them, because a key that is
 * deleted, or only scheduled for deletion, makes the retained logs unreadable and stops new log
 * events; elsewhere it is scheduled for deletion (30-day waiting period) with the stack, after its
 * log groups are gone.
 */
export function createLogKey(scope: Construct, id: string, stage: string): Key {
  const stack = Stack.of(scope);
  const key = new Key(scope, id, {
    description: `NexChat ${stage} (${stack.stackName}): encrypts the stack's CloudWatch log groups (function logs and API access logs)`,
    enableKeyRotation: true,
    removalPolicy: logRemovalPolicy(stage),
  });
  // Any log group of this account and region (names are generated, so the stack's own cannot be listed
  // without a circular reference); the principal is this region's CloudWatch Logs.
  const logGroups = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'CloudWatchLogsOfThisAccountAndRegion',
      principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: [...LOGS_KEY_ACTIONS],
      resources: ['*'],
      conditions: { ArnLike: { [LOGS_ENCRYPTION_CONTEXT_KEY]: logGroups } },
    }),
  );
  denyGrantsExceptAwsServices(key);
  return key;
}

/**
 * Control Tower CT.KMS.PR.3: grants only for AWS resources, created by AWS services. CloudWatch Logs,
 * CloudWatch alarms and SNS work from the key policy and take no grant, so nothing of ours needs one.
 */
export function denyGrantsExceptAwsServices(key: Key): void {
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'GrantsOnlyForAwsServices',
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }),
  );
}
