// WebSocket connection bookkeeping (connections table) and the @connections management API client.
// The same @aws-sdk/client-apigatewaymanagementapi runs in AWS and against the local gateway; only
// the endpoint differs (WS_CALLBACK_URL, or the stage URL derived from the event).
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '#core/config.ts';
import { doc, tableName } from './dynamo.ts';

/** API Gateway closes every WebSocket after 2 hours; rows outlive that a little, then TTL removes them. */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60 + 10 * 60;

export interface ConnectionRow {
  connectionId: string;
  connectedAt: string;
  userId?: string;
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
