// The API Gateway account-role custom resource over a fake account: it sets our role only where the
// account has none or points at a deleted one, keeps a working role, waits out IAM propagation,
// and always answers CloudFormation (FAILED included), so a stack never hangs on it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { AccountSettings } from '../../functions/adapters/aws/api-gateway-account.ts';
import { ensureAccountRole, handle, PHYSICAL_ID } from '../../functions/custom-resources/api-gateway-account.ts';

const OURS = 'arn:aws:iam::123456789012:role/NexChat-prod-ApiGatewayCloudWatchRole-ABC';
const THEIRS = 'arn:aws:iam::123456789012:role/existing-apigw-logs';

class FakeAccount implements AccountSettings {
  role: string | undefined;
  readonly existing: Set<string>;
  sets = 0;
  /** How many set calls fail with BadRequestException first (IAM not propagated yet). */
  propagationFailures = 0;
  constructor(role?: string, existing: string[] = []) {
    this.role = role;
    this.existing = new Set(existing);
  }
  async cloudWatchRoleArn() {
    return this.role;
  }
  async roleExists(arn: string) {
    return this.existing.has(arn);
  }
  async setCloudWatchRoleArn(arn: string) {
    this.sets++;
    if (this.propagationFailures > 0) {
      this.propagationFailures--;
      throw Object.assign(new Error('The role ARN does not have required permissions set to API Gateway'), { name: 'BadRequestException' });
    }
    this.role = arn;
  }
}

const noSleep = async () => undefined;

describe('ensureAccountRole', () => {
  it('sets our role where the account has none', async () => {
    const account = new FakeAccount();
    assert.deepEqual(await ensureAccountRole(account, OURS, noSleep), { outcome: 'set', roleArn: OURS });
    assert.equal(account.role, OURS);
  });

  it("keeps another stage's (or the operator's) working role: many stages share one account", async () => {
    const account = new FakeAccount(THEIRS, [THEIRS]);
    assert.deepEqual(await ensureAccountRole(account, OURS, noSleep), { outcome: 'kept', roleArn: THEIRS });
    assert.equal(account.sets, 0);
  });

  it('replaces a role that no longer exists (stage creation would fail with it)', async () => {
    const account = new FakeAccount(THEIRS, []);
    assert.deepEqual(await ensureAccountRole(account, OURS, noSleep), { outcome: 'replaced', roleArn: OURS });
    assert.equal(account.role, OURS);
  });

  it('is idempotent: a second run with our role in place changes nothing', async () => {
    const account = new FakeAccount(OURS, []);
    assert.equal((await ensureAccountRole(account, OURS, noSleep)).outcome, 'kept');
    assert.equal(account.sets, 0);
  });

  it('retries while IAM propagates the new role, with growing waits, then gives up', async () => {
    const waits: number[] = [];
    const account = new FakeAccount();
    account.propagationFailures = 3;
    assert.equal((await ensureAccountRole(account, OURS, async (ms) => void waits.push(ms))).outcome, 'set');
    assert.deepEqual(waits, [2000, 4000, 8000]);

    const stuck = new FakeAccount();
    stuck.propagationFailures = 100;
    await assert.rejects(ensureAccountRole(stuck, OURS, noSleep), /required permissions/);
    assert.equal(stuck.sets, 8);
  });

  it('does not retry other errors', async () => {
    const account = new FakeAccount();
    account.setCloudWatchRoleArn = async () => {
      throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    };
    await assert.rejects(ensureAccountRole(account, OURS, noSleep), /denied/);
  });
});

describe('the custom resource handler', () => {
  const event = (type: 'Create' | 'Update' | 'Delete', props: Record<string, unknown> = { RoleArn: OURS }) =>
    ({
      RequestType: type,
      ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:x',
      ResponseURL: 'https://cloudformation-custom-resource-response.example/presigned',
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/NexChat-prod/guid',
      RequestId: 'req-1',
      LogicalResourceId: 'ApiGatewayAccountRole',
      ResourceType: 'Custom::ApiGatewayAccountRole',
      ResourceProperties: { ServiceToken: 'x', ...props },
      ...(type === 'Create' ? {} : { PhysicalResourceId: PHYSICAL_ID }),
      ...(type === 'Update' ? { OldResourceProperties: {} } : {}),
    }) as CloudFormationCustomResourceEvent;

  function recorder() {
    const sent: { url: string; body: Record<string, unknown> }[] = [];
    return { sent, put: async (url: string, body: string) => (sent.push({ url, body: JSON.parse(body) }), { ok: true, status: 200 }) };
  }

  it('Create sets the role and answers SUCCESS with a stable physical id', async () => {
    const { sent, put } = recorder();
    const account = new FakeAccount();
    await handle(event('Create'), account, put, noSleep);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.url, 'https://cloudformation-custom-resource-response.example/presigned');
    assert.deepEqual(sent[0]!.body, {
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/NexChat-prod/guid',
      RequestId: 'req-1',
      LogicalResourceId: 'ApiGatewayAccountRole',
      PhysicalResourceId: PHYSICAL_ID,
      Status: 'SUCCESS',
      Data: { Outcome: 'set', RoleArn: OURS },
    });
    assert.equal(account.role, OURS);
  });

  it('Delete leaves the account alone (other stages rely on the role) and answers SUCCESS', async () => {
    const { sent, put } = recorder();
    const account = new FakeAccount(OURS, [OURS]);
    account.cloudWatchRoleArn = async () => assert.fail('Delete must not touch the account');
    await handle(event('Delete'), account, put, noSleep);
    assert.equal(sent[0]!.body.Status, 'SUCCESS');
    assert.equal(account.role, OURS);
  });

  it('a failure is answered FAILED with the reason (the stack rolls back instead of hanging an hour)', async () => {
    const { sent, put } = recorder();
    const account = new FakeAccount();
    account.cloudWatchRoleArn = async () => {
      throw Object.assign(new Error('User is not authorized to perform apigateway:GET'), { name: 'AccessDeniedException' });
    };
    await handle(event('Update'), account, put, noSleep);
    assert.equal(sent[0]!.body.Status, 'FAILED');
    assert.match(String(sent[0]!.body.Reason), /AccessDeniedException: User is not authorized/);
  });

  it('a missing or malformed RoleArn property is answered FAILED without touching the account', async () => {
    for (const props of [{}, { RoleArn: 'not-an-arn' }, { RoleArn: 42 }]) {
      const { sent, put } = recorder();
      const account = new FakeAccount();
      await handle(event('Create', props), account, put, noSleep);
      assert.equal(sent[0]!.body.Status, 'FAILED', JSON.stringify(props));
      assert.equal(account.sets, 0);
    }
  });

  it('throws when the answer cannot be uploaded (Lambda logs it; CloudFormation times out)', async () => {
    await assert.rejects(
      handle(event('Create'), new FakeAccount(), async () => ({ ok: false, status: 403 }), noSleep),
      /response upload failed: HTTP 403/,
    );
  });
});
