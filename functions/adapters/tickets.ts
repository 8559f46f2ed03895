// Single-use WebSocket tickets in the ephemeral table (WSTICKET#<sha256> / TICKET). The ticket itself
// is never stored; consuming it is one conditional delete, so it works once and only while fresh.
import { createHash, randomBytes } from 'node:crypto';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { doc, isConditionFailure, tableName } from './dynamo.ts';

const key = (ticket: string) => ({ pk: `WSTICKET#${createHash('sha256').update(ticket).digest('base64url')}`, sk: 'TICKET' });

/** A ticket belongs to one user and one session, so ending the session also stops its sockets. */
export async function createTicket(userId: string, sessionId: string, ttlSeconds: number, now = Date.now()): Promise<string> {
  const ticket = randomBytes(32).toString('base64url');
  await doc.send(
    new PutCommand({
      TableName: tableName('ephemeral'),
      Item: { ...key(ticket), userId, sessionId, ticketExpiresAt: now + ttlSeconds * 1000, expiresAt: Math.ceil(now / 1000) + ttlSeconds + 60 },
    }),
  );
  return ticket;
}

/** The ticket's user and session, or undefined when it is unknown, used or expired. */
export async function consumeTicket(ticket: string, now = Date.now()): Promise<{ userId: string; sessionId: string } | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(ticket)) return undefined;
  try {
    const out = await doc.send(
      new DeleteCommand({
        TableName: tableName('ephemeral'),
        Key: key(ticket),
        ConditionExpression: 'attribute_exists(pk) AND ticketExpiresAt > :now',
        ExpressionAttributeValues: { ':now': now },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const a = out.Attributes;
    return a ? { userId: a.userId as string, sessionId: a.sessionId as string } : undefined;
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}
