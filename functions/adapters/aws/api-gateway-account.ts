// API Gateway's account-level settings (one per account and region) and the IAM check the account
// role custom resource needs: the port of functions/custom-resources/api-gateway-account.ts.
import { APIGatewayClient, GetAccountCommand, UpdateAccountCommand } from '@aws-sdk/client-api-gateway';
import { GetRoleCommand, IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';

export interface AccountSettings {
  /** The role API Gateway writes CloudWatch Logs with, if the account has one. */
  cloudWatchRoleArn(): Promise<string | undefined>;
  /** Whether the role still exists (an account may point at a role someone deleted). */
  roleExists(roleArn: string): Promise<boolean>;
  setCloudWatchRoleArn(roleArn: string): Promise<void>;
}

export function awsAccountSettings(apiGateway = new APIGatewayClient({}), iam = new IAMClient({})): AccountSettings {
  return {
    async cloudWatchRoleArn() {
      const account = await apiGateway.send(new GetAccountCommand({}));
      return account.cloudwatchRoleArn || undefined;
    },
    async roleExists(roleArn) {
      const roleName = roleArn.slice(roleArn.lastIndexOf('/') + 1);
      try {
        await iam.send(new GetRoleCommand({ RoleName: roleName }));
        return true;
      } catch (error) {
        if (error instanceof NoSuchEntityException) return false;
        throw error;
      }
    },
    async setCloudWatchRoleArn(roleArn) {
      await apiGateway.send(new UpdateAccountCommand({ patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: roleArn }] }));
    },
  };
}
