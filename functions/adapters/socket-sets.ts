// Presence state on a user's socket set (USER#u / SOCKETS in the connections table): `ids` (what
// sends read to push), `epoch` (bumped by every join) and `online` (the status last announced). Used
// by $connect, $disconnect and the presence worker only, so other routes do not bundle it (nor the
// @connections GetConnection it uses to prune ids whose $disconnect was lost).
import { GetConnectionCommand, GoneException } from '@aws-sdk/client-apigatewaymanagementapi';
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock, SocketSet, SocketSetsPort } from '#core/ports.ts';
import { CONNECTION_TTL_SECONDS, managementClient } from './connections.ts';
import { isConditionFailure, writeAll, type Db } from './dynamodb/db.ts';
import { connectionKey, socketsKey } from './dynamodb/item-keys.ts';

/**
 * @connections answers 410 for a connection still in its $connect (API Gateway's integration timeout
 * is 29 s; the local gateway registers a socket only after $connect too): a gone id younger than this
 * whose row exists may be one being opened right now, so it is never pruned.
 */
export const PENDING_CONNECT_SECONDS = 60;

/** `online` is a DynamoDB reserved word; `epoch` goes through a name alike. */
const names = { '#online': 'online', '#epoch': 'epoch' };

const emptySet: SocketSet = { ids: [], epoch: 0, online: false };

function socketSet(item: Record<string, unknown> | undefined): SocketSet {
  if (!item) return emptySet;
  return { ids: [...((item.ids as Set<string> | undefined) ?? [])], epoch: Number(item.epoch ?? 0), online: item.online === true };
}

export function socketSetsAdapter(db: Db, clock: Clock, endpoint: string, region: string): SocketSetsPort {
  const { doc } = db;
  const table = () => db.table('connections');
  const management = managementClient(endpoint, region);

  /** Takes ids out of the user's set (an emptied set is removed by DynamoDB) and answers the set after. */
  async function dropIds(userId: string, connectionIds: readonly string[]): Promise<SocketSet> {
    try {
      const out = await doc.send(
        new UpdateCommand({
          TableName: table(),
          Key: socketsKey(userId),
          UpdateExpression: 'DELETE ids :ids',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':ids': new Set(connectionIds) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return socketSet(out.Attributes);
    } catch (error) {
      if (isConditionFailure(error)) return emptySet; // no set: nothing to forget
      throw error;
    }
  }

  /** GetConnection: gone only on a 410; any other failure counts as alive (pruning is never a guess). */
  async function isGone(connectionId: string): Promise<boolean> {
    try {
      await management.send(new GetConnectionCommand({ ConnectionId: connectionId }));
      return false;
    } catch (error) {
      return error instanceof GoneException;
    }
  }

  /** A gone id is stale when its row is gone too (or expired), or older than any $connect in progress. */
  async function isStale(connectionId: string): Promise<boolean> {
    const item = (await doc.send(new GetCommand({ TableName: table(), Key: connectionKey(connectionId), ConsistentRead: true }))).Item;
    if (!item) return true;
    if (typeof item.expiresAt === 'number' && item.expiresAt * 1000 < clock.now()) return true;
    const connectedAt = Date.parse(String(item.connectedAt));
    return !Number.isFinite(connectedAt) || connectedAt < clock.now() - PENDING_CONNECT_SECONDS * 1000;
  }

  return {
    /** One unconditional update: the id, the epoch and `online`; the old `online` says whether this join brought the user online. */
    async join(userId, connectionId) {
      const out = await doc.send(
        new UpdateCommand({
          TableName: table(),
          Key: socketsKey(userId),
          UpdateExpression: 'ADD ids :id, #epoch :one SET expiresAt = :exp, #online = :true',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':id': new Set([connectionId]),
            ':one': 1,
            ':exp': Math.floor(clock.now() / 1000) + CONNECTION_TTL_SECONDS,
            ':true': true,
          },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      return { cameOnline: out.Attributes?.online !== true };
    },

    /** The row and the id go in parallel (one round trip); the set answered is the one after this leave. */
    async leave(userId, connectionId) {
      const [, set] = await Promise.all([
        doc.send(new DeleteCommand({ TableName: table(), Key: connectionKey(connectionId) })),
        dropIds(userId, [connectionId]),
      ]);
      return set;
    },

    async pruneGone(userId, set) {
      const stale = (await Promise.all(set.ids.map(async (id) => ((await isGone(id)) && (await isStale(id)) ? id : undefined)))).filter(
        (id): id is string => id !== undefined,
      );
      if (stale.length === 0) return set;
      await writeAll(stale.map((id) => doc.send(new DeleteCommand({ TableName: table(), Key: connectionKey(id) }))));
      return dropIds(userId, stale);
    },

    async claimOffline(userId, epoch) {
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table(),
            Key: socketsKey(userId),
            UpdateExpression: 'SET #online = :false',
            ConditionExpression: '#online = :true AND #epoch = :epoch AND attribute_not_exists(ids)',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':false': false, ':true': true, ':epoch': epoch },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },
  };
}
