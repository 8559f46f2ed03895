// DynamoDB table definitions: one list read by the CDK stack, the local runtime and the tests,
// so a key schema, index or TTL attribute can never differ between AWS and the laptop.

export type TableId = 'users' | 'keys' | 'sessions' | 'ephemeral' | 'connections' | 'messages' | 'moderation' | 'attachments';

export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N';
}

export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
}

export interface TableDefinition {
  readonly id: TableId;
  /** Environment variable that carries the physical table name into a Lambda. */
  readonly envVar: string;
  readonly purpose: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  /** Epoch-seconds attribute DynamoDB TTL deletes by; reads still check it (TTL is best-effort). */
  readonly ttlAttribute?: string;
  readonly indexes: readonly IndexDefinition[];
}

const pk: KeyAttribute = { name: 'pk', type: 'S' };
const sk: KeyAttribute = { name: 'sk', type: 'S' };
const TTL = 'expiresAt';

export const tables: readonly TableDefinition[] = [
  {
    id: 'users',
    envVar: 'USERS_TABLE',
    purpose: 'profiles (USER#id/PROFILE) and uniqueness claims (EMAIL#x|PHONE#x/CLAIM), role, status, tokens-valid-after',
    partitionKey: pk,
    sortKey: sk,
    indexes: [{ name: 'byDisplayName', partitionKey: { name: 'gsi1pk', type: 'S' }, sortKey: { name: 'gsi1sk', type: 'S' } }],
  },
  {
    id: 'keys',
    envVar: 'KEYS_TABLE',
    purpose: 'current public keys (USER#id/KEY#current) and their history (KEY#v0007)',
    partitionKey: pk,
    sortKey: sk,
    indexes: [],
  },
  {
    id: 'sessions',
    envVar: 'SESSIONS_TABLE',
    purpose: 'refresh-token families (FAMILY#id/TOKEN#hash) and their rotation state',
    partitionKey: pk,
    sortKey: sk,
    ttlAttribute: TTL,
    indexes: [{ name: 'byUser', partitionKey: { name: 'userId', type: 'S' }, sortKey: { name: 'sk', type: 'S' } }],
  },
  {
    id: 'ephemeral',
    envVar: 'EPHEMERAL_TABLE',
    purpose: 'OTP challenges, WebSocket tickets, rate-limit counters: purpose-prefixed keys, TTL on everything',
    partitionKey: pk,
    sortKey: sk,
    ttlAttribute: TTL,
    indexes: [],
  },
  {
    id: 'connections',
    envVar: 'CONNECTIONS_TABLE',
    purpose: 'open WebSocket connections (CONN#id/META), fanned out by user through a GSI',
    partitionKey: pk,
    sortKey: sk,
    ttlAttribute: TTL,
    indexes: [{ name: 'byUser', partitionKey: { name: 'userId', type: 'S' }, sortKey: { name: 'connectedAt', type: 'S' } }],
  },
  {
    id: 'messages',
    envVar: 'MESSAGES_TABLE',
    purpose: 'conversations, members, messages (CONV#id/MSG#ulid), read positions',
    partitionKey: pk,
    sortKey: sk,
    ttlAttribute: TTL,
    indexes: [{ name: 'byMember', partitionKey: { name: 'gsi1pk', type: 'S' }, sortKey: { name: 'gsi1sk', type: 'S' } }],
  },
  {
    id: 'moderation',
    envVar: 'MODERATION_TABLE',
    purpose: 'blocks (USER#id/BLOCK#id), reports (REPORT#id), audit log',
    partitionKey: pk,
    sortKey: sk,
    indexes: [{ name: 'byStatus', partitionKey: { name: 'gsi1pk', type: 'S' }, sortKey: { name: 'gsi1sk', type: 'S' } }],
  },
  {
    id: 'attachments',
    envVar: 'ATTACHMENTS_TABLE',
    purpose:
      'encrypted attachments: the upload record (ATT#id/META), where it was shared (ATT#id/SHARE#msg), account purges (PURGE/USER#id); ' +
      'by owner (account deletion) and by upload hour while never shared (the sweeper)',
    partitionKey: pk,
    sortKey: sk,
    ttlAttribute: TTL,
    indexes: [
      { name: 'byOwner', partitionKey: { name: 'ownerId', type: 'S' }, sortKey: { name: 'createdAt', type: 'S' } },
      { name: 'pending', partitionKey: { name: 'pendingHour', type: 'S' }, sortKey: { name: 'createdAt', type: 'S' } },
    ],
  },
];

export function tableDefinition(id: TableId): TableDefinition {
  const found = tables.find((t) => t.id === id);
  if (!found) throw new Error(`unknown table ${id}`);
  return found;
}

/** Every attribute that appears in a key of the table or one of its indexes. */
export function keyAttributes(table: TableDefinition): KeyAttribute[] {
  const all = [table.partitionKey, table.sortKey, ...table.indexes.flatMap((i) => (i.sortKey ? [i.partitionKey, i.sortKey] : [i.partitionKey]))];
  const seen = new Map<string, KeyAttribute>();
  for (const a of all) seen.set(a.name, a);
  return [...seen.values()];
}
