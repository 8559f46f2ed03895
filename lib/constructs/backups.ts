// AWS Backup for the tables whose loss users would feel: accounts, public keys, message history and
// moderation records. Sessions, ephemeral state and connections are short-lived and rebuilt by use,
// so PITR (35 days, on every table) is their only net. Settings come from context (readBackupSettings).
import { Aws, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { ManagedPolicy, type Role } from 'aws-cdk-lib/aws-iam';
// The function cdk-nag itself uses to name findings, so acknowledgements match exactly.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import { BackupPlan, BackupPlanRule, BackupResource, BackupVault } from 'aws-cdk-lib/aws-backup';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { Construct, type Node } from 'constructs';
import { readOptionalFlag } from '../context.ts';
import type { TableId } from '../tables.ts';
import { PROD_STAGE } from './route-function.ts';

/** The tables AWS Backup copies. */
export const BACKED_UP_TABLES = ['users', 'keys', 'messages', 'moderation'] as const satisfies readonly TableId[];

export interface BackupSettings {
  readonly enabled: boolean;
  /** Days a daily recovery point is kept. */
  readonly retentionDays: number;
  /** A vault in another region (or account) that receives a copy of every recovery point. */
  readonly copyVaultArn?: string;
  readonly copyRetentionDays?: number;
}

export const DEFAULT_BACKUP_RETENTION_DAYS = 35;
/** What CDK's backup selection role carries (AWS's documented policy for taking backups). */
const BACKUP_POLICY = 'service-role/AWSBackupServiceRolePolicyForBackup';
const VAULT_ARN = /^arn:aws[a-z-]*:backup:[a-z0-9-]+:\d{12}:backup-vault:[A-Za-z0-9_.-]{2,50}$/;

/**
 * Context: `backups` (true/false; default true in prod, false elsewhere: a throwaway stage's
 * retained vault would outlive it), `backupRetentionDays` (1..36500, default 35),
 * `backupCopyVaultArn` (optional destination vault) and `backupCopyRetentionDays` (default: the same).
 */
export function readBackupSettings(node: Node, stage: string): BackupSettings {
  const enabled = readOptionalFlag(node, 'backups') ?? stage === PROD_STAGE;
  const retentionDays = readDays(node, 'backupRetentionDays') ?? DEFAULT_BACKUP_RETENTION_DAYS;
  const copyVaultArn: unknown = node.tryGetContext('backupCopyVaultArn');
  if (copyVaultArn !== undefined && (typeof copyVaultArn !== 'string' || !VAULT_ARN.test(copyVaultArn))) {
    throw new Error(
      `context "backupCopyVaultArn" must be an AWS Backup vault ARN, e.g. arn:aws:backup:eu-central-1:123456789012:backup-vault:nexchat-copies; got ${JSON.stringify(copyVaultArn)}`,
    );
  }
  const copyRetentionDays = readDays(node, 'backupCopyRetentionDays');
  if (copyRetentionDays !== undefined && copyVaultArn === undefined) {
    throw new Error('context "backupCopyRetentionDays" is set but "backupCopyVaultArn" is not: there is no copy to keep');
  }
  return {
    enabled,
    retentionDays,
    ...(typeof copyVaultArn === 'string' ? { copyVaultArn, copyRetentionDays: copyRetentionDays ?? retentionDays } : {}),
  };
}

function readDays(node: Node, key: string): number | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined) return undefined;
  const days = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(days) || days < 1 || days > 36_500)
    throw new Error(`context "${key}" must be a whole number of days from 1 to 36500; got ${JSON.stringify(value)}`);
  return days;
}

export interface TableBackupsProps {
  readonly settings: BackupSettings;
  readonly tables: Readonly<Record<TableId, ITable>>;
  readonly stage: string;
}

/** A vault (retained: recovery points are what a restore after a stack delete needs), a daily plan, one selection. */
export class TableBackups extends Construct {
  readonly vault: BackupVault;
  readonly plan: BackupPlan;

  constructor(scope: Construct, id: string, props: TableBackupsProps) {
    super(scope, id);
    // The stack name plus the first group of this stack instance's GUID: a vault retained after a
    // stack delete never collides with the next stack of the same name.
    const instance = Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
    this.vault = new BackupVault(this, 'Vault', {
      // A vault that holds recovery points cannot be deleted anyway; retaining it says so.
      removalPolicy: RemovalPolicy.RETAIN,
      backupVaultName: Fn.join('-', [Stack.of(this).stackName, instance]),
    });
    this.plan = new BackupPlan(this, 'Plan', { backupVault: this.vault });
    this.plan.addRule(
      new BackupPlanRule({
        ruleName: 'Daily',
        // 03:00 UTC, after the day's peak in most regions; PITR covers the minutes in between.
        scheduleExpression: Schedule.cron({ minute: '0', hour: '3' }),
        startWindow: Duration.hours(1),
        completionWindow: Duration.hours(8),
        deleteAfter: Duration.days(props.settings.retentionDays),
        ...(props.settings.copyVaultArn
          ? {
              copyActions: [
                {
                  destinationBackupVault: BackupVault.fromBackupVaultArn(this, 'CopyVault', props.settings.copyVaultArn),
                  deleteAfter: Duration.days(props.settings.copyRetentionDays ?? props.settings.retentionDays),
                },
              ],
            }
          : {}),
      }),
    );
    const selection = this.plan.addSelection('Tables', {
      resources: BACKED_UP_TABLES.map((id) => BackupResource.fromDynamoDbTable(props.tables[id])),
    });
    const role = selection.grantPrincipal as Role;
    Validations.of(role.node.defaultChild!).acknowledge({
      id: `AwsSolutions-IAM4[Policy::${flattenCfnReference(Stack.of(this).resolve(ManagedPolicy.fromAwsManagedPolicyName(BACKUP_POLICY).managedPolicyArn))}]`,
      reason:
        'AWSBackupServiceRolePolicyForBackup is the role policy AWS Backup documents for taking backups; this role is assumable by AWS Backup only and the selection names the four tables.',
    });
  }
}
