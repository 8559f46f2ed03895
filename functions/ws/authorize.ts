// The $connect REQUEST authorizer: consumes the single-use ticket and hands its user id to the
// connection as authorizer context. Unknown, used or expired tickets get API Gateway's 401.
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { consumeTicket } from '#adapters/tickets.ts';
import { logger } from '#middleware/logger.ts';

export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const ticket = event.queryStringParameters?.ticket ?? '';
  const userId = await consumeTicket(ticket);
  logger.info('ws authorize', { allowed: Boolean(userId), requestId: event.requestContext?.requestId });
  if (!userId) throw new Error('Unauthorized');
  return {
    principalId: userId,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] },
    context: { userId },
  };
}
