// Users table: the profile (USER#id / PROFILE) and one uniqueness claim per email or phone
// (EMAIL#x / CLAIM, PHONE#x / CLAIM), written and deleted in one transaction with the profile.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Role } from '#contract/common.ts';
import { Conflict, NotFound } from '#core/errors.ts';
import type { Clock, UserRecord, UsersPort } from '#core/ports.ts';
import { isConditionFailure, stripKeys, type Db } from './db.ts';
import { profileKey } from './item-keys.ts';

const claimKey = (kind: 'email' | 'phone', value: string) => ({ pk: `${kind.toUpperCase()}#${value}`, sk: 'CLAIM' });

function claims(user: Pick<UserRecord, 'email' | 'phone'>) {
  return [...(user.email ? [claimKey('email', user.email)] : []), ...(user.phone ? [claimKey('phone', user.phone)] : [])];
}

function toRecord(item: Record<string, unknown> | undefined): UserRecord | undefined {
  return item ? stripKeys<UserRecord>(item) : undefined;
}

/**
 * Display-name index entry for people search: partitioned by the first two characters of the
 * lower-cased name (searches need at least two), sorted by the whole name, so a prefix search is
 * one Query and no single partition holds every user.
 */
export function nameIndex(displayName: string, userId: string) {
  const lower = displayName.toLowerCase();
  return { gsi1pk: `NAME#${namePartition(lower)}`, gsi1sk: `${lower}#${userId}` };
}

export function namePartition(lowerPrefix: string): string {
  return [...lowerPrefix].slice(0, 2).join('');
}

export function usersTable(db: Db, clock: Clock): UsersPort {
  const { doc } = db;
  const table = () => db.table('users');

  /** Chosen fields of several users at once, by id (missing users are simply absent). */
  async function profilesOf(userIds: readonly string[], fields: readonly ('displayName' | 'role')[]): Promise<Map<string, Record<string, string>>> {
    const found = new Map<string, Record<string, string>>();
    const unique = [...new Set(userIds)];
    // some field names (role) are DynamoDB reserved words: always go through placeholders
    const all = ['userId', ...fields];
    const names = Object.fromEntries(all.map((f, i) => [`#f${i}`, f]));
    const projection = Object.keys(names).join(', ');
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Record<string, unknown>[] = unique.slice(i, i + 100).map(profileKey);
      while (keys.length) {
        const out = await doc.send(
          new BatchGetCommand({ RequestItems: { [table()]: { Keys: keys, ProjectionExpression: projection, ExpressionAttributeNames: names } } }),
        );
        for (const item of out.Responses?.[table()] ?? []) found.set(item.userId as string, item as Record<string, string>);
        keys = (out.UnprocessedKeys?.[table()]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
  }

  return {
    async create(user) {
      const TableName = table();
      try {
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName,
                  Item: { ...profileKey(user.userId), ...nameIndex(user.displayName, user.userId), ...user },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              ...claims(user).map((key) => ({
                Put: { TableName, Item: { ...key, userId: user.userId }, ConditionExpression: 'attribute_not_exists(pk)' },
              })),
            ],
          }),
        );
      } catch (error) {
        // a failed uniqueness condition, or another registration claiming it at this moment, means
        // taken; anything else (throttling, ...) is an error worth retrying, not a 409
        if (
          error instanceof TransactionCanceledException &&
          error.CancellationReasons?.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict')
        ) {
          throw new Conflict('An account with this email or phone already exists', 'identifier_taken');
        }
        throw error;
      }
    },

    async get(userId) {
      const out = await doc.send(new GetCommand({ TableName: table(), Key: profileKey(userId), ConsistentRead: true }));
      return toRecord(out.Item);
    },

    async findIdByIdentifier(kind, value) {
      const out = await doc.send(new GetCommand({ TableName: table(), Key: claimKey(kind, value), ConsistentRead: true }));
      return out.Item?.userId as string | undefined;
    },

    async update(userId, changes, opts = {}) {
      const entries = Object.entries({
        ...changes,
        ...(changes.displayName ? nameIndex(changes.displayName, userId) : {}),
        updatedAt: new Date(clock.now()).toISOString(),
      });
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const sets: string[] = [];
      const removes: string[] = [];
      entries.forEach(([k, v], i) => {
        names[`#k${i}`] = k;
        if (v === undefined) removes.push(`#k${i}`);
        else {
          values[`:v${i}`] = v;
          sets.push(`#k${i} = :v${i}`);
        }
      });
      let condition = 'attribute_exists(pk)';
      if (opts.unlessStatus) {
        condition += ' AND #status <> :unless';
        names['#status'] = 'status';
        values[':unless'] = opts.unlessStatus;
      }
      try {
        const out = await doc.send(
          new UpdateCommand({
            TableName: table(),
            Key: profileKey(userId),
            UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return toRecord(out.Attributes)!;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const old = (error as { Item?: Record<string, { S?: string }> }).Item;
        if (old && opts.unlessStatus && old.status?.S === opts.unlessStatus)
          throw new Conflict(`The account is ${opts.unlessStatus}`, `already_${opts.unlessStatus}`);
        throw new NotFound('User not found', 'user_not_found');
      }
    },

    async delete(user) {
      const TableName = table();
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [profileKey(user.userId), ...claims(user)].map((Key) => ({ Delete: { TableName, Key } })),
        }),
      );
    },

    async searchByName(prefix, limit) {
      const lower = prefix.toLowerCase();
      const out = await doc.send(
        new QueryCommand({
          TableName: table(),
          IndexName: 'byDisplayName',
          KeyConditionExpression: 'gsi1pk = :p AND begins_with(gsi1sk, :q)',
          ExpressionAttributeValues: { ':p': `NAME#${namePartition(lower)}`, ':q': lower },
          ProjectionExpression: 'userId, displayName',
          Limit: limit,
        }),
      );
      return (out.Items ?? []).map((i) => ({ userId: i.userId as string, displayName: i.displayName as string }));
    },

    async displayNames(userIds) {
      const profiles = await profilesOf(userIds, ['displayName']);
      return new Map([...profiles].map(([id, p]) => [id, p.displayName!]));
    },

    async rolesOf(userIds) {
      const profiles = await profilesOf(userIds, ['role']);
      return new Map([...profiles].map(([id, p]) => [id, p.role as Role]));
    },
  };
}
