// WebSocket connections: bookkeeping rows in the connections table (CONN#id / META, GSI byUser for
// fan-out) and the @connections management API. The same @aws-sdk/client-apigatewaymanagementapi
// runs in AWS and against the local gateway; only the endpoint differs (the stage's callback URL).
import { ApiGatewayManagementApiClient, DeleteConnectionCommand, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { pushFrames } from '#contract/realtime/frames.ts';
import { shapeOutput } from '#contract/shape.ts';
import type { PushFrame } from '#contract/realtime/frames.ts';
import type { Clock, ConnectionRow, ConnectionsPort } from '#core/ports.ts';
import { isConditionFailure, type Db } from './dynamodb/db.ts';
import { connectionKey as connKey, socketsKey } from './dynamodb/item-keys.ts';

/** API Gateway closes every WebSocket after 2 hours; rows outlive that a little, then TTL removes them. */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60 + 10 * 60;

const managementClients = new Map<string, ApiGatewayManagementApiClient>();

/** One @connections client per endpoint, created on first use and kept for the container's life. */
export function managementClient(endpoint: string, region: string): ApiGatewayManagementApiClient {
  let client = managementClients.get(endpoint);
  if (!client) managementClients.set(endpoint, (client = new ApiGatewayManagementApiClient({ endpoint, region, maxAttempts: 2 })));
  return client;
}

export function connectionsAdapter(db: Db, clock: Clock, endpoint: string, region: string): ConnectionsPort {
  const { doc } = db;
  const table = () => db.table('connections');
  const management = managementClient(endpoint, region);

  async function send(connectionId: string, frame: unknown): Promise<boolean> {
    try {
      await management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify(frame)) }));
      return true;
    } catch (error) {
      if (error instanceof GoneException) return false;
      throw error;
    }
  }

  /**
   * A connection's id in its user's socket set (USER#u / SOCKETS, kept with the presence state by
   * socket-sets.ts): an id left behind by a lost $disconnect goes at its first 410, or when the user's
   * next $disconnect finds it gone at @connections.
   */
  async function dropSocket(userId: string, connectionId: string): Promise<void> {
    await doc
      .send(
        new UpdateCommand({
          TableName: table(),
          Key: socketsKey(userId),
          UpdateExpression: 'DELETE ids :id',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':id': new Set([connectionId]) },
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error; // no set: nothing to forget
      });
  }

  /** Forgets a connection: its row, then its id in its user's socket set. */
  async function remove(connectionId: string): Promise<void> {
    const out = await doc.send(new DeleteCommand({ TableName: table(), Key: connKey(connectionId), ReturnValues: 'ALL_OLD' }));
    const userId = out.Attributes?.userId as string | undefined;
    if (userId) await dropSocket(userId, connectionId);
  }

  async function close(connectionId: string): Promise<void> {
    try {
      await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    } catch (error) {
      if (!(error instanceof GoneException)) throw error;
    }
  }

  /** A user's open connections: only what fan-out and endForUser read (id, session). */
  async function rowsOf(userId: string): Promise<Pick<ConnectionRow, 'connectionId' | 'sessionId'>[]> {
    const rows: Pick<ConnectionRow, 'connectionId' | 'sessionId'>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    const nowSeconds = Math.floor(clock.now() / 1000);
    do {
      const page = await doc.send(
        new QueryCommand({
          TableName: table(),
          IndexName: 'byUser',
          KeyConditionExpression: 'userId = :u',
          ExpressionAttributeValues: { ':u': userId },
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) {
        if (typeof item.expiresAt === 'number' && item.expiresAt < nowSeconds) continue;
        rows.push({ connectionId: item.connectionId as string, ...(item.sessionId ? { sessionId: item.sessionId as string } : {}) });
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return rows;
  }

  async function end(connectionId: string): Promise<void> {
    await remove(connectionId);
    await close(connectionId);
  }

  /** A 410 from @connections deletes that row, awaited, and delivery to the rest goes on. */
  /**
   * `forget`: a 410 deletes the row and the set entry (message pushes, from the socket sets). Presence,
   * typing and receipts (push, from the rows) leave them: API Gateway answers 410 for a socket still
   * inside its $connect too, whose row is written early there, and a co-member connecting at the same
   * moment would otherwise delete the row of a socket that then opens deaf. Dead rows still go at the
   * next message's 410, at a sibling's $disconnect, or by TTL.
   */
  async function pushTo(targets: readonly string[], frame: PushFrame, forget = true): Promise<{ delivered: number; gone: number }> {
    if (!targets.length) return { delivered: 0, gone: 0 };
    const shaped = shapeOutput(pushFrames[frame.type], frame, `${frame.type} frame`);
    const results = await Promise.all(
      targets.map(async (id) => {
        if (await send(id, shaped)) return true;
        if (forget) await remove(id);
        return false;
      }),
    );
    return { delivered: results.filter(Boolean).length, gone: results.filter((r) => !r).length };
  }

  return {
    send,
    remove,
    end,
    pushTo,

    /** The row only: the id joins the user's socket set after the session re-check (socket-sets.ts). */
    async save(row) {
      await doc.send(
        new PutCommand({
          TableName: table(),
          Item: { ...connKey(row.connectionId), ...row, expiresAt: Math.floor(clock.now() / 1000) + CONNECTION_TTL_SECONDS },
        }),
      );
    },

    async ownerOf(connectionId) {
      const out = await doc.send(new GetCommand({ TableName: table(), Key: connKey(connectionId), ConsistentRead: true }));
      const item = out.Item;
      if (!item?.userId || (typeof item.expiresAt === 'number' && item.expiresAt * 1000 < clock.now())) return undefined;
      return { userId: item.userId as string, ...(item.sessionId ? { sessionId: item.sessionId as string } : {}) };
    },

    async openConnections(userId) {
      return (await rowsOf(userId)).map((r) => r.connectionId);
    },

    /** A 410 from @connections deletes that row, awaited, and delivery to the rest goes on. */
    async push(userIds, frame, exceptConnectionId) {
      const targets = (await Promise.all([...new Set(userIds)].map(rowsOf)))
        .flat()
        .map((r) => r.connectionId)
        .filter((id) => id !== exceptConnectionId);
      return pushTo(targets, frame, false);
    },

    /** Used when sessions end (logout, password change, deletion, sanctions, a revoked device): closes and forgets, awaited. */
    async endForUser(userId, filter) {
      const rows = (await rowsOf(userId)).filter(
        (r) =>
          (filter.onlySession === undefined || r.sessionId === filter.onlySession) &&
          (filter.exceptSession === undefined || r.sessionId !== filter.exceptSession),
      );
      // one failed close does not stop the rest; the notice (why, and the close code) goes first, best effort
      const { notice } = filter;
      const results = await Promise.allSettled(rows.map(async (r) => (await send(r.connectionId, notice).catch(() => 0), end(r.connectionId))));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      return rows.length;
    },
  };
}
