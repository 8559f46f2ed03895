// WebSocket connection bookkeeping (connections table) and the @connections management API client.
// The same @aws-sdk/client-apigatewaymanagementapi runs in AWS and against the local gateway; only
// the endpoint differs (WS_CALLBACK_URL, or the stage URL derived from the event).
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '#core/config.ts';
import { doc, tableName } from './dynamo.ts';

/** API Gateway closes every WebSocket after 2 hours; rows outlive that a little, then TTL removes them. */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60 + 10 * 60;

export interface ConnectionRow {
  connectionId: string;
  connectedAt: string;
  userId?: string;
  /** The session (refresh family) whose ticket opened the connection. */
  sessionId?: string;
}

const connKey = (connectionId: string) => ({ pk: `CONN#${connectionId}`, sk: 'META' });

export async function saveConnection(row: ConnectionRow, now = Date.now()): Promise<void> {
  await doc.send(
    new PutCommand({
      TableName: tableName('connections'),
      Item: { ...connKey(row.connectionId), ...row, expiresAt: Math.floor(now / 1000) + CONNECTION_TTL_SECONDS },
    }),
  );
}

export async function deleteConnection(connectionId: string): Promise<void> {
  await doc.send(new DeleteCommand({ TableName: tableName('connections'), Key: connKey(connectionId) }));
}

const clients = new Map<string, ApiGatewayManagementApiClient>();

/** One management client per endpoint, created on first use and kept for the container's life. */
export function managementClient(endpoint: string): ApiGatewayManagementApiClient {
  let client = clients.get(endpoint);
  if (!client) {
    client = new ApiGatewayManagementApiClient({ endpoint, region: config.region, maxAttempts: 2 });
    clients.set(endpoint, client);
  }
  return client;
}

export function callbackUrl(requestContext: { domainName?: string; stage?: string }): string {
  if (config.wsCallbackUrl) return config.wsCallbackUrl;
  return `https://${requestContext.domainName}/${requestContext.stage}`;
}

/** Sends one frame. Returns false when the connection is gone (410), so callers can clean up. */
export async function postFrame(endpoint: string, connectionId: string, frame: unknown): Promise<boolean> {
  try {
    await managementClient(endpoint).send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify(frame)) }),
    );
    return true;
  } catch (error) {
    if (error instanceof GoneException) return false;
    throw error;
  }
}

export async function closeConnection(endpoint: string, connectionId: string): Promise<void> {
  try {
    await managementClient(endpoint).send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
  } catch (error) {
    if (!(error instanceof GoneException)) throw error;
  }
}

/** The caller of a WebSocket route as written at $connect (undefined when unknown). */
export async function connectionUser(connectionId: string): Promise<{ userId: string; sessionId?: string } | undefined> {
  const out = await doc.send(new GetCommand({ TableName: tableName('connections'), Key: connKey(connectionId), ConsistentRead: true }));
  const item = out.Item;
  if (!item?.userId || (typeof item.expiresAt === 'number' && item.expiresAt * 1000 < Date.now())) return undefined;
  return { userId: item.userId as string, ...(item.sessionId ? { sessionId: item.sessionId as string } : {}) };
}

/** A user's open connections: a Query on the byUser GSI, never a Scan. */
export async function connectionsOf(userId: string): Promise<string[]> {
  return (await connectionRowsOf(userId)).map((r) => r.connectionId);
}

/**
 * Closes a user's sockets (all, only one session's, or all but one session's) through @connections
 * and forgets them, awaited. Used when sessions end: logout, password change, deletion, sanctions.
 */
export async function closeUserConnections(userId: string, filter: { onlySession?: string; exceptSession?: string } = {}): Promise<number> {
  const endpoint = callbackUrl({});
  const rows = (await connectionRowsOf(userId)).filter(
    (r) => (filter.onlySession === undefined || r.sessionId === filter.onlySession) && (filter.exceptSession === undefined || r.sessionId !== filter.exceptSession),
  );
  // one failed close does not stop the rest
  const results = await Promise.allSettled(rows.map((r) => endConnection(endpoint, r.connectionId)));
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length) throw (failed[0] as PromiseRejectedResult).reason;
  return rows.length;
}

/** Ends one connection: the row goes first (no more pushes even if closing fails), then the socket. */
export async function endConnection(endpoint: string, connectionId: string): Promise<void> {
  await deleteConnection(connectionId);
  await closeConnection(endpoint, connectionId);
}

export async function connectionRowsOf(userId: string): Promise<ConnectionRow[]> {
  const ids: ConnectionRow[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  const nowSeconds = Math.floor(Date.now() / 1000);
  do {
    const page = await doc.send(
      new QueryCommand({
        TableName: tableName('connections'),
        IndexName: 'byUser',
        KeyConditionExpression: 'userId = :u',
        ExpressionAttributeValues: { ':u': userId },
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) {
      if (typeof item.expiresAt === 'number' && item.expiresAt < nowSeconds) continue;
      ids.push({ connectionId: item.connectionId as string, connectedAt: item.connectedAt as string, userId, ...(item.sessionId ? { sessionId: item.sessionId as string } : {}) });
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return ids;
}

export interface PushResult {
  delivered: number;
  gone: number;
}

/**
 * Sends one frame to every connection of the given users (except one, usually the sender's own).
 * A 410 from @connections deletes that connection row, awaited, and delivery to the rest goes on.
 */
export async function pushToUsers(endpoint: string, userIds: readonly string[], frame: unknown, exceptConnectionId?: string): Promise<PushResult> {
  const targets = (await Promise.all([...new Set(userIds)].map(connectionsOf))).flat().filter((id) => id !== exceptConnectionId);
  const results = await Promise.all(
    targets.map(async (id) => {
      if (await postFrame(endpoint, id, frame)) return true;
      await deleteConnection(id);
      return false;
    }),
  );
  return { delivered: results.filter(Boolean).length, gone: results.filter((r) => !r).length };
}
