// The $connect REQUEST authorizer: consumes the single-use ticket, checks that its session is still
// alive (user active, not signed out, not banned), and hands user and session to the connection as
// authorizer context. Anything else gets API Gateway's 401.
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { liveSession } from '#core/authn.ts';
import { authDeps } from '#adapters/identity.ts';
import { consumeTicket } from '#adapters/tickets.ts';
import { logger } from '#middleware/logger.ts';

export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const ticket = event.queryStringParameters?.ticket ?? '';
  const owner = await consumeTicket(ticket);
  const session = owner ? await liveSession(authDeps, owner.userId, owner.sessionId).catch(() => undefined) : undefined;
  logger.info('ws authorize', { allowed: Boolean(session), requestId: event.requestContext?.requestId });
  if (!session) throw new Error('Unauthorized');
  return {
    principalId: session.userId,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] },
    context: { userId: session.userId, sessionId: session.sessionId },
  };
}
