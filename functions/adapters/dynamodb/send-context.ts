// The reads of a 1:1 send in one BatchGetItem across five tables: the session family, both users,
// both member items, the block pair and both socket sets. Strongly consistent everywhere but the
// socket sets (a socket that opened a moment ago catches up by sync, as it would anyway).
import type { AttachmentRecord, FamilyRecord, MemberView, SendContextPort, UserRecord } from '#core/ports.ts';
import { batchGetAll } from './batch.ts';
import { stripKeys, type Db } from './db.ts';
import { toAttachment } from './attachment-items.ts';
import { attachmentKey, blockKey, familyKey, memberKey, profileKey, socketsKey } from './item-keys.ts';

type Key = { pk: string; sk: string };
type Item = Record<string, unknown>;

export function sendContextReader(db: Db): SendContextPort {
  /** A send to oneself (refused by core after the session check) would name some keys twice. */
  const unique = (keys: Key[]) => [...new Map(keys.map((k) => [`${k.pk}\u0000${k.sk}`, k])).values()];

  return {
    async load({ senderId, recipientId, conversationId, sessionId, attachmentIds = [] }) {
      const t = {
        users: db.table('users'),
        messages: db.table('messages'),
        moderation: db.table('moderation'),
        connections: db.table('connections'),
        sessions: sessionId ? db.table('sessions') : undefined,
        attachments: attachmentIds.length ? db.table('attachments') : undefined,
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
      const read = (table: string, keyList: Key[], consistent: boolean) => unique(keyList).map((key) => ({ table, key, consistent }));
      const byTable = await batchGetAll(db, [
        ...read(t.users, [keys.caller, keys.recipient], true),
        ...read(t.messages, [keys.senderMember, keys.recipientMember], true),
        ...read(t.moderation, [keys.blocks, keys.blockedBy], true),
        ...read(t.connections, [keys.recipientSockets, keys.senderSockets], false),
        ...(t.sessions && keys.family ? read(t.sessions, [keys.family], true) : []),
        ...(t.attachments ? read(t.attachments, attachmentIds.map(attachmentKey), true) : []),
      ]);
      const found = new Map<string, Item>();
      for (const [table, items] of byTable) for (const i of items) found.set(`${table}\u0000${i.pk}\u0000${i.sk}`, i);
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
        attachments: new Map<string, AttachmentRecord>(
          (t.attachments ? (byTable.get(t.attachments) ?? []) : []).map((i) => [i.attachmentId as string, toAttachment(i)]),
        ),
      };
    },
  };
}
