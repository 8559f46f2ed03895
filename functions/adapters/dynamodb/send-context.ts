// The reads of a 1:1 send in one BatchGetItem across five tables: the session family, both users,
// both member items, the block pair and both socket sets. Strongly consistent everywhere but the
// socket sets (a socket that opened a moment ago catches up by sync, as it would anyway).
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { ServiceUnavailable } from '#core/errors.ts';
import type { FamilyRecord, MemberView, SendContextPort, UserRecord } from '#core/ports.ts';
import { stripKeys, type Db } from './db.ts';
import { blockKey, familyKey, memberKey, profileKey, socketsKey } from './item-keys.ts';

type Key = { pk: string; sk: string };
type Item = Record<string, unknown>;

export function sendContextReader(db: Db): SendContextPort {
  /** One BatchGetItem; unprocessed keys (throttling) are read again with backoff. */
  async function batchGet(request: Record<string, { Keys: Key[]; ConsistentRead: boolean }>): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    let pending: Record<string, { Keys: Key[]; ConsistentRead: boolean }> | undefined = request;
    for (let attempt = 0; pending && Object.keys(pending).length; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 2 ** attempt * 10) * Math.random()));
      if (attempt > 8) throw new ServiceUnavailable('Throttled; retry', 'throttled');
      const out = await db.doc.send(new BatchGetCommand({ RequestItems: pending }));
      for (const [table, items] of Object.entries(out.Responses ?? {})) for (const i of items) found.set(`${table}\u0000${i.pk}\u0000${i.sk}`, i);
      pending = out.UnprocessedKeys as typeof pending;
    }
    return found;
  }

  /** A send to oneself (refused by core after the session check) would name some keys twice. */
  const unique = (keys: Key[]) => [...new Map(keys.map((k) => [`${k.pk}\u0000${k.sk}`, k])).values()];

  return {
    async load({ senderId, recipientId, conversationId, sessionId }) {
      const t = {
        users: db.table('users'),
        messages: db.table('messages'),
        moderation: db.table('moderation'),
        connections: db.table('connections'),
        sessions: sessionId ? db.table('sessions') : undefined,
      };
      const keys = {
        caller: profileKey(senderId),
        recipient: profileKey(recipientId),
        senderMember: memberKey(conversationId, senderId),
        recipientMember: memberKey(conversationId, recipientId),
        blocks: blockKey(senderId, recipientId),
        blockedBy: blockKey(recipientId, senderId),
        recipientSockets: socketsKey(recipientId),
        senderSockets: socketsKey(senderId),
        family: sessionId ? familyKey(sessionId) : undefined,
      };
      const found = await batchGet({
        [t.users]: { Keys: unique([keys.caller, keys.recipient]), ConsistentRead: true },
        [t.messages]: { Keys: unique([keys.senderMember, keys.recipientMember]), ConsistentRead: true },
        [t.moderation]: { Keys: unique([keys.blocks, keys.blockedBy]), ConsistentRead: true },
        [t.connections]: { Keys: unique([keys.recipientSockets, keys.senderSockets]), ConsistentRead: false },
        ...(t.sessions && keys.family ? { [t.sessions]: { Keys: [keys.family], ConsistentRead: true } } : {}),
      });
      const get = (table: string | undefined, key: Key | undefined) => (table && key ? found.get(`${table}\u0000${key.pk}\u0000${key.sk}`) : undefined);
      const record = <T>(table: string | undefined, key: Key | undefined) => {
        const item = get(table, key);
        return item ? stripKeys<T>(item) : undefined;
      };
      const member = (key: Key) => {
        const item = get(t.messages, key);
        return item ? stripKeys<MemberView>(item, ['expiresAt']) : undefined;
      };
      const sockets = (key: Key) => [...((get(t.connections, key)?.ids as Set<string> | undefined) ?? [])];
      return {
        family: record<FamilyRecord>(t.sessions, keys.family),
        caller: record<UserRecord>(t.users, keys.caller),
        recipient: record<UserRecord>(t.users, keys.recipient),
        senderMember: member(keys.senderMember),
        recipientMember: member(keys.recipientMember),
        blocks: [Boolean(get(t.moderation, keys.blocks)), Boolean(get(t.moderation, keys.blockedBy))],
        sockets: [sockets(keys.recipientSockets), sockets(keys.senderSockets)],
      };
    },
  };
}
