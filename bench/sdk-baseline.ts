// The bundle benchmark's SDK baseline: the AWS clients nearly every route needs, created at module
// scope as functions/adapters does, and nothing of ours. bench/run.ts bundles it with the routes'
// esbuild options (so with the env-only credentials alias) and times its load the same way, so
// that "route minus SDK baseline" is what our own code and its other dependencies cost.
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const region = process.env.AWS_REGION ?? 'us-east-1';

export const dynamo = new DynamoDBClient({ region, maxAttempts: 3 });
export const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
export const connections = new ApiGatewayManagementApiClient({ endpoint: 'https://example.execute-api.us-east-1.amazonaws.com/bench', region, maxAttempts: 2 });
