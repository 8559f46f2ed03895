// Ephemeral table: OTP challenges (OTP#purpose#channel#destination / CHALLENGE) and rate-limit
// counters (RL#name#key / W#windowStart). Every item carries expiresAt for TTL, and every read path
// checks expiry itself in its condition, because TTL deletion is best-effort.
import { UpdateCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ChallengeKey, ChallengeRecord, ChallengesPort, CounterPort } from '#core/identity-ports.ts';
import { doc, isConditionFailure, tableName } from './dynamo.ts';

const challengeKey = (k: ChallengeKey) => ({ pk: `OTP#${k.purpose}#${k.channel}#${k.destinationKey}`, sk: 'CHALLENGE' });

export const challenges: ChallengesPort = {
  async put(key, digest, expiresAtMs, resendAtMs, now) {
    try {
      await doc.send(
        new PutCommand({
          TableName: tableName('ephemeral'),
          Item: { ...challengeKey(key), digest, attempts: 0, codeExpiresAt: expiresAtMs, resendAt: resendAtMs, createdAt: now, expiresAt: Math.ceil(Math.max(expiresAtMs, resendAtMs) / 1000) },
          ConditionExpression: 'attribute_not_exists(pk) OR resendAt <= :now',
          ExpressionAttributeValues: { ':now': now },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const old = (error as { Item?: Record<string, { N?: string }> }).Item;
      return { ok: false, resendAt: Number(old?.resendAt?.N ?? now + 60_000) };
    }
  },

  async attempt(key, maxAttempts, now) {
    try {
      const out = await doc.send(
        new UpdateCommand({
          TableName: tableName('ephemeral'),
          Key: challengeKey(key),
          UpdateExpression: 'ADD attempts :one',
          ConditionExpression: 'attribute_exists(pk) AND attempts < :max AND attribute_not_exists(usedAt) AND codeExpiresAt > :now',
          ExpressionAttributeValues: { ':one': 1, ':max': maxAttempts, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const a = out.Attributes!;
      return { digest: a.digest, attempts: a.attempts, expiresAt: a.codeExpiresAt, resendAt: a.resendAt } as ChallengeRecord;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  },

  async markUsed(key, now) {
    try {
      await doc.send(
        new UpdateCommand({
          TableName: tableName('ephemeral'),
          Key: challengeKey(key),
          UpdateExpression: 'SET usedAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(usedAt)',
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  },
};

export const counters: CounterPort = {
  async hit(name, key, policy, now) {
    const windowMs = policy.windowSeconds * 1000;
    const start = Math.floor(now / windowMs) * windowMs;
    const resetAt = start + windowMs;
    try {
      const out = await doc.send(
        new UpdateCommand({
          TableName: tableName('ephemeral'),
          Key: { pk: `RL#${name}#${key}`, sk: `W#${start}` },
          UpdateExpression: 'ADD hits :one SET expiresAt = :ttl',
          ConditionExpression: 'attribute_not_exists(hits) OR hits < :limit',
          ExpressionAttributeValues: { ':one': 1, ':limit': policy.limit, ':ttl': Math.ceil(resetAt / 1000) + 60 },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return { allowed: true, count: Number(out.Attributes?.hits ?? 1), resetAt };
    } catch (error) {
      if (isConditionFailure(error)) return { allowed: false, count: policy.limit, resetAt };
      throw error;
    }
  },
};
