// Sessions table: one item per refresh-token family (FAMILY#id / META) holding only the digest of
// its current token. Rotation is one conditional update, so of two uses of one token exactly one
// wins; the loser is treated as reuse. GSI byUser (userId, sk) finds a user's families.
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock, FamilyRecord, SessionsPort } from '#core/ports.ts';
import { isConditionFailure, type Db } from './db.ts';
import { familyKey } from './item-keys.ts';

export function sessionsTable(db: Db, clock: Clock): SessionsPort {
  const { doc } = db;
  const tableName = (_: 'sessions') => db.table('sessions');
  const port: SessionsPort = {
    async create(family) {
      await doc.send(
        new PutCommand({
          TableName: tableName('sessions'),
          Item: { ...familyKey(family.familyId), ...family },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    },

    async get(familyId) {
      const out = await doc.send(new GetCommand({ TableName: tableName('sessions'), Key: familyKey(familyId), ConsistentRead: true }));
      if (!out.Item) return undefined;
      const { pk: _pk, sk: _sk, ...rest } = out.Item;
      return rest as FamilyRecord;
    },

    async rotate(familyId, presented, next) {
      const now = clock.now();
      try {
        await doc.send(
          new UpdateCommand({
            TableName: tableName('sessions'),
            Key: familyKey(familyId),
            UpdateExpression: 'SET currentDigest = :next, generation = generation + :one, lastUsedAt = :now',
            ConditionExpression: 'currentDigest = :presented AND attribute_not_exists(revokedAt) AND expiresAt > :nowSeconds',
            ExpressionAttributeValues: { ':next': next, ':presented': presented, ':one': 1, ':now': now, ':nowSeconds': Math.floor(now / 1000) },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async revoke(familyId, reason) {
      const now = clock.now();
      try {
        await doc.send(
          new UpdateCommand({
            TableName: tableName('sessions'),
            Key: familyKey(familyId),
            UpdateExpression: 'SET revokedAt = :now, revokeReason = :reason',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(revokedAt)',
            ExpressionAttributeValues: { ':now': now, ':reason': reason },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error; // already revoked or gone: nothing to do
      }
    },

    async revokeAllForUser(userId, reason, exceptFamilyId) {
      let revoked = 0;
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new QueryCommand({
            TableName: tableName('sessions'),
            IndexName: 'byUser',
            KeyConditionExpression: 'userId = :u AND sk = :meta',
            FilterExpression: 'attribute_not_exists(revokedAt)',
            ExpressionAttributeValues: { ':u': userId, ':meta': 'META' },
            ExclusiveStartKey,
          }),
        );
        const ids = (page.Items ?? []).map((i) => i.familyId as string).filter((id) => id !== exceptFamilyId);
        await Promise.all(ids.map((id) => port.revoke(id, reason)));
        revoked += ids.length;
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return revoked;
    },
  };
  return port;
}
