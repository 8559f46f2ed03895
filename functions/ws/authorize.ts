// The $connect REQUEST authorizer: consumes the single-use ticket, checks that its session is still
// alive (user active, not signed out, not banned), and hands user and session to the connection as
// authorizer context. Anything else gets API Gateway's 401 (behind the edge, also a connection that
// did not come through CloudFront).
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { authorizeTicket } from '#core/realtime.ts';
import { edgeCheck } from '#middleware/edge.ts';
import { logger } from '#middleware/logger.ts';
import { config } from '#wiring/platform.ts';
import { authorizer } from '#wiring/realtime.ts';

export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  // Behind the edge, a connection that went around CloudFront is refused before its ticket is spent.
  if (!edgeCheck(event.headers, event.requestContext?.identity?.sourceIp ?? 'unknown', config().edgeOriginSecret).allowed) {
    logger.info('ws authorize', { allowed: false, reason: 'not through the edge', requestId: event.requestContext?.requestId });
    throw new Error('Unauthorized');
  }
  const session = await authorizeTicket(authorizer(), event.queryStringParameters?.ticket ?? '');
  logger.info('ws authorize', { allowed: Boolean(session), requestId: event.requestContext?.requestId });
  if (!session) throw new Error('Unauthorized');
  return {
    principalId: session.userId,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] },
    context: { userId: session.userId, sessionId: session.sessionId },
  };
}
