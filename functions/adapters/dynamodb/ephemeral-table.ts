// Ephemeral table: OTP challenges (OTP#purpose#channel#destination / CHALLENGE), rate-limit
// windows (RL#name#key / SW#windowSeconds) and single-use WebSocket tickets (WSTICKET#<sha256> /
// TICKET). Every item carries expiresAt for TTL, and every read path checks expiry itself in its
// condition, because TTL deletion is best-effort.
import { createHash, randomBytes } from 'node:crypto';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LIMIT_SUBWINDOWS, type ChallengeKey, type ChallengeRecord, type ChallengesPort, type Clock, type LimitsPort, type TicketsPort } from '#core/ports.ts';
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

/*
 * Per-client rate limits: a sliding window counted in LIMIT_SUBWINDOWS (k = 10) sub-windows, one item
 * per name and key, one conditional UpdateItem per hit.
 *
 * Why this algorithm. Fixed windows (what this replaced) let 2N through around a window edge (N just
 * before it, N just after). Cloudflare's two-window estimate (previous count weighted by the part of
 * it still inside the window, plus the current count) assumes the previous window's hits were spread
 * evenly: a client that bursts N at its end and paces itself through the next window still gets
 * close to 2N within one window length. A token bucket or GCRA (Stripe's limiters, redis-cell)
 * bounds a burst to N but refills during the window, so N + N*t/W pass in any t: again up to 2N - 1
 * in one window length, and its max(tat, now) is not expressible in one DynamoDB update. An exact
 * sliding log keeps N timestamps per key (300 for sends: ~3 KB, 3 write units a hit). Sub-windows
 * keep O(k) numbers and are rounded conservatively: a hit in sub-window j counts the hits accepted
 * in sub-windows j-k..j, a span between W and W + W/k, so no interval of length W ever holds more
 * than N, and capacity comes back at most W/k later than the log would give it back.
 *
 * How it is one atomic update. `n` counts accepted hits (since the item started) and `c` is n + N.
 * The first hit accepted in sub-window i copies c into slot f<i mod 64>: the value n reaches once N
 * hits fell in sub-windows >= i. A hit is accepted iff n is below every live slot (comparing two attributes is all the
 * arithmetic a condition needs), which holds exactly when fewer than N hits fell in sub-windows
 * j-k..j. The same update removes every slot outside the live range, so only live slots exist, and
 * `s` (the latest accepted sub-window) guards against a slot name coming round again 64 sub-windows
 * later. A refusal returns the item (ALL_OLD): the latest full live slot says when it leaves the
 * window, which is the Retry-After.
 *
 * Calls per hit: 1 (first hit, busy or recently idle key, refusal); 2 when the key sat idle for more
 * than 53 sub-windows (5.3 windows) and TTL has not deleted it yet (the second call starts it over),
 * or when another container's clock already counted into a later sub-window; 3 only if two
 * start-overs race. The window length is in the sort key, so changing it starts a new count; a new
 * limit applies to sub-windows that start after it. (Lean on purpose: this is in the bundle of
 * every route with a per-user limit.)
 */
const K = LIMIT_SUBWINDOWS;
/** Slot names come round every 64 sub-windows: k + 1 are live, every hit removes the other 63 - k. */
const slot = (i: number) => `f${i % 64}`;
const slots = (from: number, count: number) => Array.from({ length: count }, (_, d) => slot(from + d));

export function limitsTable(db: Db, clock: Clock): LimitsPort {
  return {
    async hit(name, key, { limit, windowSeconds }) {
      const g = (windowSeconds * 1000) / K;
      const Key = { pk: `RL#${name}#${key}`, sk: `SW#${windowSeconds}` };
      let j = Math.floor(clock.now() / g);
      let stale: number | undefined;
      for (let attempt = 0; attempt < 4; attempt++) {
        const f = slot(j);
        const base = { TableName: db.table('ephemeral'), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };
        // every item expires once its latest sub-window has left the window
        const expiresAt = Math.ceil(((j + K + 1) * g) / 1000) + 60;
        try {
          if (stale === undefined) {
            await db.doc.send(
              new UpdateCommand({
                ...base,
                Key,
                UpdateExpression:
                  `SET n = if_not_exists(n, :z) + :o, c = if_not_exists(n, :z) + :c, ${f} = if_not_exists(${f}, if_not_exists(c, :l)), ` +
                  `s = :j, expiresAt = :t REMOVE ${slots(j + 1, 63 - K).join()}`,
                ConditionExpression: `(attribute_not_exists(n) OR s BETWEEN :f AND :j)${slots(j - K, K + 1)
                  .map((x) => ` AND (attribute_not_exists(${x}) OR n < ${x})`)
                  .join('')}`,
                ExpressionAttributeValues: { ':z': 0, ':o': 1, ':c': limit + 1, ':l': limit, ':j': j, ':f': j + K - 63, ':t': expiresAt },
              }),
            );
          } else {
            // idle so long that every slot is dead (and a slot name may have come round): start over
            await db.doc.send(
              new PutCommand({
                ...base,
                Item: { ...Key, n: 1, c: limit + 1, [f]: limit, s: j, expiresAt },
                ConditionExpression: 's = :s',
                ExpressionAttributeValues: { ':s': stale },
              }),
            );
          }
          return { allowed: true };
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
          const item = (error as { Item?: Record<string, { N?: string }> }).Item;
          const num = (attr: string) => Number(item?.[attr]?.N ?? NaN);
          const [s, n] = [num('s'), num('n')];
          stale = undefined;
          // another container's clock already counted into a later sub-window: count this hit there
          if (s > j) j = s;
          else if (s < j + K - 63) stale = s;
          // refused: the latest full live sub-window says when the window has room again
          else for (let i = j; i >= j - K; i--) if (n >= num(slot(i))) return { allowed: false, retryAt: (i + K + 1) * g };
          // (an item deleted between the two calls of a start-over reads as NaN: the loop tries again)
        }
      }
      throw new Error(`rate limit ${name}: the counter kept changing`);
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
