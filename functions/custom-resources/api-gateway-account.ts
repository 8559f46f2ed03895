// CloudFormation custom resource: gives API Gateway its account-level CloudWatch Logs role only where
// the account (this region) has none, or has one that no longer exists. A WebSocket stage with access
// logs cannot be created without it, so a first deploy in a fresh account would fail. Idempotent and
// safe with many stages: a stage that finds a working role leaves it alone, and nothing is undone on
// delete (the role it set is retained by the stack, so other stages keep working).
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import { awsAccountSettings, type AccountSettings } from '#adapters/aws/api-gateway-account.ts';
import { logger } from '#middleware/logger.ts';

export const PHYSICAL_ID = 'apigateway-account-cloudwatch-role';

export type Outcome = 'kept' | 'set' | 'replaced';

/** API Gateway refuses a role IAM has not propagated yet (BadRequest); it usually takes seconds. */
const SET_ATTEMPTS = 8;
const FIRST_DELAY_MS = 2_000;

export async function ensureAccountRole(
  api: AccountSettings,
  ourRoleArn: string,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<{ outcome: Outcome; roleArn: string }> {
  const current = await api.cloudWatchRoleArn();
  if (current && (current === ourRoleArn || (await api.roleExists(current)))) return { outcome: 'kept', roleArn: current };
  for (let attempt = 1; ; attempt++) {
    try {
      await api.setCloudWatchRoleArn(ourRoleArn);
      return { outcome: current ? 'replaced' : 'set', roleArn: ourRoleArn };
    } catch (error) {
      const propagating = (error as { name?: string }).name === 'BadRequestException';
      if (!propagating || attempt === SET_ATTEMPTS) throw error;
      await sleep(FIRST_DELAY_MS * Math.min(2 ** (attempt - 1), 8));
    }
  }
}

type Put = (url: string, body: string) => Promise<{ ok: boolean; status: number }>;

/** Runs one CloudFormation request and always answers it: a custom resource that never answers hangs the stack for an hour. */
export async function handle(event: CloudFormationCustomResourceEvent, api: AccountSettings, put: Put, sleep?: (ms: number) => Promise<void>): Promise<void> {
  const base = { StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId, PhysicalResourceId: PHYSICAL_ID };
  let response: CloudFormationCustomResourceResponse;
  try {
    if (event.RequestType === 'Delete') {
      response = { ...base, Status: 'SUCCESS', Data: { Outcome: 'kept' } };
    } else {
      const roleArn: unknown = event.ResourceProperties['RoleArn'];
      if (typeof roleArn !== 'string' || !roleArn.startsWith('arn:')) throw new Error('property RoleArn must be the ARN of the role to set');
      const result = await ensureAccountRole(api, roleArn, sleep);
      logger.info('api gateway account role', { outcome: result.outcome, roleArn: result.roleArn });
      response = { ...base, Status: 'SUCCESS', Data: { Outcome: result.outcome, RoleArn: result.roleArn } };
    }
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    logger.error('api gateway account role failed', { reason });
    response = { ...base, Status: 'FAILED', Reason: reason.slice(0, 500) };
  }
  const answer = await put(event.ResponseURL, JSON.stringify(response));
  if (!answer.ok) throw new Error(`CloudFormation response upload failed: HTTP ${answer.status}`);
}

/** The presigned S3 URL CloudFormation waits on; signed without a content type, so send none. */
const putResponse: Put = async (url, body) => {
  const res = await fetch(url, { method: 'PUT', body, headers: { 'content-type': '' } });
  return { ok: res.ok, status: res.status };
};

const settings = awsAccountSettings();

export const handler = (event: CloudFormationCustomResourceEvent): Promise<void> => handle(event, settings, putResponse);
