// Messages table, the listing reads: a conversation's history, a user's delivery queue (sync), the
// inbox (GSI byMember) and unread counts. Apart from the writes (messages-table.ts) so that the routes
// that send, open conversations and post receipts do not bundle them (PostMessage is the tightest).
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Message } from '#contract/conversations/schemas.ts';
import { nextSyncCursor, parseSyncCursor, publicMessage, SYNC_CURSOR_MAX_RECENT } from '#core/message-rules.ts';
import type { Clock, MemberView, MessageQueriesPort, MessageRecord, SyncPage } from '#core/ports.ts';
import { cursors, decodeCursor, encodeCursor } from './cursor.ts';
import { batchGetAll } from './batch.ts';
import { stripKeys, type Db } from './db.ts';
import { positionsKey } from './item-keys.ts';

const strip = <T>(item: Record<string, unknown>): T => stripKeys<T>(item, ['expiresAt']);

export function messageQueries(db: Db, clock: Clock): MessageQueriesPort {
  const { doc } = db;
  const table = () => db.table('messages');

  /**
   * History as the viewer sees it, newest first; `before` is exclusive. Only messages addressed to the
   * viewer (sent or received) count, so a non-member reads nothing (core then answers 404); expired
   * and hidden messages are skipped.
   */
  async function history(
    conversationId: string,
    viewerId: string,
    before: string | undefined,
    limit: number,
  ): Promise<{ messages: Message[]; before?: string }> {
    const out = await doc.send(
      new QueryCommand({
        TableName: table(),
        KeyConditionExpression: before ? 'pk = :pk AND sk BETWEEN :lo AND :hi' : 'pk = :pk AND begins_with(sk, :lo)',
        FilterExpression: '(senderId = :me OR recipientId = :me) AND (attribute_not_exists(hiddenFrom) OR hiddenFrom <> :me) AND expiresAt > :now',
        ExpressionAttributeValues: {
          ':pk': `CONV#${conversationId}`,
          ':lo': 'MSG#',
          ':me': viewerId,
          ':now': Math.floor(clock.now() / 1000),
          // BETWEEN is inclusive: the largest key below `before`
          ...(before ? { ':hi': `MSG#${before.slice(0, -1)}${String.fromCharCode(before.charCodeAt(before.length - 1) - 1)}~` } : {}),
        },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    const messages = (out.Items ?? []).map((i) => publicMessage(strip<MessageRecord>(i)));
    const last = out.LastEvaluatedKey?.sk as string | undefined;
    return last ? { messages, before: last.slice('MSG#'.length) } : { messages };
  }

  /**
   * The user's delivery queue after a cursor, oldest first: one strongly consistent Query (entries hold
   * a copy of the message). Ids the cursor lists as already returned are skipped; see nextSyncCursor.
   */
  async function syncStream(userId: string, afterText: string | undefined, limit: number): Promise<SyncPage> {
    const after = parseSyncCursor(afterText);
    const room = Math.max(0, SYNC_CURSOR_MAX_RECENT - after.recent.size);
    const take = Math.min(limit, room);
    const messages: Message[] = [];
    const consumed: string[] = [];
    let frontier = after.settled;
    let more = false;
    if (take > 0) {
      const out = await doc.send(
        new QueryCommand({
          TableName: table(),
          KeyConditionExpression: after.settled ? 'pk = :pk AND sk > :lo' : 'pk = :pk AND begins_with(sk, :lo)',
          ExpressionAttributeValues: { ':pk': `QUEUE#${userId}`, ':lo': after.settled ? `MSG#${after.settled}` : 'MSG#' },
          Limit: take + after.recent.size,
          ConsistentRead: true,
        }),
      );
      const now = clock.now();
      for (const item of out.Items ?? []) {
        const entryId = (item.sk as string).slice('MSG#'.length);
        if (after.recent.has(entryId)) {
          frontier = entryId;
          continue;
        }
        if (consumed.length === take) {
          more = true;
          break;
        }
        consumed.push(entryId);
        frontier = entryId;
        if ((item.expiresAt as number) * 1000 > now) messages.push(strip<Message>(item));
      }
      more ||= out.LastEvaluatedKey !== undefined;
    } else {
      more = true;
    }
    return { messages, cursor: nextSyncCursor(after, consumed, more ? frontier : null, clock.now()), hasMore: more };
  }

  /** A page of the caller's inbox, latest activity first. */
  async function inbox(userId: string, limit: number, cursorText?: string) {
    const cursor = decodeCursor(cursorText, cursors.inbox(userId));
    const out = await doc.send(
      new QueryCommand({
        TableName: table(),
        IndexName: 'byMember',
        KeyConditionExpression: 'gsi1pk = :inbox',
        ExpressionAttributeValues: { ':inbox': `INBOX#${userId}` },
        ScanIndexForward: false,
        Limit: limit,
        ...(cursor ? { ExclusiveStartKey: cursor } : {}),
      }),
    );
    return { items: (out.Items ?? []).map((i) => strip<MemberView>(i)), cursor: encodeCursor(out.LastEvaluatedKey) };
  }

  /** Messages from the peer after the read position, counted up to a cap (the badge shows "99+"). */
  async function countUnread(conversationId: string, userId: string, readUpTo: string | undefined, cap = 100): Promise<number> {
    const out = await doc.send(
      new QueryCommand({
        TableName: table(),
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        FilterExpression: 'senderId <> :me AND (attribute_not_exists(hiddenFrom) OR hiddenFrom <> :me) AND expiresAt > :now',
        ExpressionAttributeValues: {
          ':pk': `CONV#${conversationId}`,
          ':lo': readUpTo ? `MSG#${readUpTo}\u0000` : 'MSG#',
          ':hi': 'MSG#~',
          ':me': userId,
          ':now': Math.floor(clock.now() / 1000),
        },
        Select: 'COUNT',
        Limit: cap,
      }),
    );
    return out.Count ?? 0;
  }

  /** Read positions (POS items; older member items may still carry one: the later of the two counts). */
  async function readPositions(conversationIds: readonly string[], userId: string): Promise<Map<string, string>> {
    const found = await batchGetAll(
      db,
      conversationIds.map((c) => ({ table: table(), key: positionsKey(c, userId), consistent: true })),
    );
    const positions = new Map<string, string>();
    for (const item of found.get(table()) ?? []) if (item.readUpTo) positions.set(item.conversationId as string, item.readUpTo as string);
    return positions;
  }

  return { history, syncStream, inbox, countUnread, readPositions };
}
