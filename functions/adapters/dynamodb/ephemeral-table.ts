// Ephemeral table: OTP challenges (OTP#purpose#channel#destination / CHALLENGE), rate-limit
// counters (RL#name#key / W#windowStart) and single-use WebSocket tickets (WSTICKET#<sha256> /
// TICKET). Every item carries expiresAt for TTL, and every read path checks expiry itself in its
// condition, because TTL deletion is best-effort.
import { createHash, randomBytes } from 'node:crypto';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ChallengeKey, ChallengeRecord, ChallengesPort, Clock, LimitsPort, TicketsPort } from '#core/ports.ts';
import { isConditionFailure, type Db } from './db.ts';

const challengeKey = (k: ChallengeKey) => ({ pk: `OTP#${k.purpose}#${k.channel}#${k.destinationKey}`, sk: 'CHALLENGE' });
const ticketKey = (ticket: string) => ({ pk: `WSTICKET#${createHash('sha256').update(ticket).digest('base64url')}`, sk: 'TICKET' });

export function challengesTable(db: Db, clock: Clock): ChallengesPort {
  const { doc } = db;
  const tableName = (_: 'ephemeral') => db.table('ephemeral');
  return {
    async put(key, digest, expiresAtMs, resendAtMs) {
      const now = clock.now();
      try {
        await doc.send(
          new PutCommand({
            TableName: tableName('ephemeral'),
            Item: {
              ...challengeKey(key),
              digest,
              attempts: 0,
              codeExpiresAt: expiresAtMs,
              resendAt: resendAtMs,
              createdAt: now,
              expiresAt: Math.ceil(Math.max(expiresAtMs, resendAtMs) / 1000),
            },
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

    async attempt(key, maxAttempts) {
      const now = clock.now();
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

    async markUsed(key) {
      const now = clock.now();
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
}

export function limitsTable(db: Db, clock: Clock): LimitsPort {
  const { doc } = db;
  const tableName = (_: 'ephemeral') => db.table('ephemeral');
  return {
    async hit(name, key, policy) {
      const now = clock.now();
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
}

/** A ticket belongs to one user and one session, so ending the session also stops its sockets. */
export function ticketsTable(db: Db, clock: Clock): TicketsPort {
  const { doc } = db;
  return {
    async create(userId, sessionId, ttlSeconds) {
      const now = clock.now();
      const ticket = randomBytes(32).toString('base64url');
      await doc.send(
        new PutCommand({
          TableName: db.table('ephemeral'),
          Item: { ...ticketKey(ticket), userId, sessionId, ticketExpiresAt: now + ttlSeconds * 1000, expiresAt: Math.ceil(now / 1000) + ttlSeconds + 60 },
        }),
      );
      return ticket;
    },

    /** Consuming is one conditional delete, so a ticket works once and only while fresh. */
    async consume(ticket) {
      if (!/^[A-Za-z0-9_-]{43}$/.test(ticket)) return undefined;
      try {
        const out = await doc.send(
          new DeleteCommand({
            TableName: db.table('ephemeral'),
            Key: ticketKey(ticket),
            ConditionExpression: 'attribute_exists(pk) AND ticketExpiresAt > :now',
            ExpressionAttributeValues: { ':now': clock.now() },
            ReturnValues: 'ALL_OLD',
          }),
        );
        const a = out.Attributes;
        return a ? { userId: a.userId as string, sessionId: a.sessionId as string } : undefined;
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    },
  };
}
