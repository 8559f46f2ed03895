// Devices (sessions table): one item per signed-in device, USER#<userId> / DEVICE#<deviceId>, naming
// its session family. They live beside the families because they share their lifetime: a device
// expires (TTL `expiresAt`) with its family, and whether it is signed in is its family's state, read
// in one BatchGet. The item has no `userId` attribute, so it stays out of the byUser index (which
// finds families for revocation).
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock, DeviceRecord, DevicesPort, FamilyRecord } from '#core/ports.ts';
import { isConditionFailure, queryAll, type Db } from './db.ts';

const deviceKey = (userId: string, deviceId: string) => ({ pk: `USER#${userId}`, sk: `DEVICE#${deviceId}` });
const familyKey = (familyId: string) => ({ pk: `FAMILY#${familyId}`, sk: 'META' });

function toDevice(item: Record<string, unknown>): DeviceRecord {
  return {
    deviceId: item.deviceId as string,
    userId: item.owner as string,
    name: item.name as string,
    createdAt: item.createdAt as string,
    familyId: item.familyId as string,
    expiresAt: item.expiresAt as number,
  };
}

async function listDevices(db: Db, clock: Clock, userId: string): Promise<DeviceRecord[]> {
  const items = await queryAll(db, {
    TableName: db.table('sessions'),
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :device)',
    ExpressionAttributeValues: { ':pk': `USER#${userId}`, ':device': 'DEVICE#' },
    ConsistentRead: true,
  });
  return items.filter((item) => live(clock, item)).map(toDevice);
}

const live = (clock: Clock, item: Record<string, unknown> | undefined) => item !== undefined && (item.expiresAt as number) * 1000 > clock.now();

/** Sign-ins (register, login, a claimed link) only create: their bundles hold nothing else of this table. */
export function deviceCreator(db: Db): Pick<DevicesPort, 'create'> {
  return {
    async create(device) {
      const { userId, ...rest } = device;
      await db.doc.send(
        new PutCommand({
          TableName: db.table('sessions'),
          Item: { ...deviceKey(userId, device.deviceId), ...rest, owner: userId },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    },
  };
}

/** Account deletion removes every device record of the user: one Query of keys, then their deletes. */
export function deviceCleanup(db: Db): Pick<DevicesPort, 'deleteAll'> {
  return {
    async deleteAll(userId) {
      const TableName = db.table('sessions');
      const pk = `USER#${userId}`;
      // every page: an account that signed in thousands of times within a month (the records of ended
      // sessions wait for TTL) has more than one Query page (1 MB) of them, names included
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await db.doc.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :device)',
            ExpressionAttributeValues: { ':pk': pk, ':device': 'DEVICE#' },
            ProjectionExpression: 'sk',
            ExclusiveStartKey,
          }),
        );
        await Promise.all((page.Items ?? []).map((i) => db.doc.send(new DeleteCommand({ TableName, Key: { pk, sk: i.sk } }))));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    },
  };
}

export function devicesTable(db: Db, clock: Clock): DevicesPort {
  const { doc } = db;
  const table = () => db.table('sessions');
  return {
    ...deviceCreator(db),
    ...deviceCleanup(db),
    list: (userId) => listDevices(db, clock, userId),

    async get(userId, deviceId) {
      const out = await doc.send(new GetCommand({ TableName: table(), Key: deviceKey(userId, deviceId), ConsistentRead: true }));
      return live(clock, out.Item) ? toDevice(out.Item!) : undefined;
    },

    async rename(userId, deviceId, name) {
      try {
        const out = await doc.send(
          new UpdateCommand({
            TableName: table(),
            Key: deviceKey(userId, deviceId),
            UpdateExpression: 'SET #name = :name',
            ConditionExpression: 'attribute_exists(pk) AND expiresAt > :now',
            ExpressionAttributeNames: { '#name': 'name' },
            ExpressionAttributeValues: { ':name': name, ':now': Math.floor(clock.now() / 1000) },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return toDevice(out.Attributes!);
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    },

    async delete(userId, deviceId) {
      await doc.send(new DeleteCommand({ TableName: table(), Key: deviceKey(userId, deviceId) }));
    },

    async families(familyIds) {
      const found: FamilyRecord[] = [];
      // at most 100 keys per BatchGetItem; a user has few devices (DEVICES_MAX)
      for (let i = 0; i < familyIds.length; i += 100) {
        let keys: Record<string, unknown>[] = familyIds.slice(i, i + 100).map(familyKey);
        while (keys.length) {
          const out = await doc.send(new BatchGetCommand({ RequestItems: { [table()]: { Keys: keys, ConsistentRead: true } } }));
          for (const item of out.Responses?.[table()] ?? []) {
            const { pk: _pk, sk: _sk, ...family } = item;
            found.push(family as FamilyRecord);
          }
          keys = (out.UnprocessedKeys?.[table()]?.Keys ?? []) as Record<string, unknown>[];
        }
      }
      return found;
    },
  };
}
