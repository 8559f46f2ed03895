// The primary keys of the items that more than one adapter reads: each table's own adapter and the
// cross-table reads (send-context.ts) build them from here, so a key shape is written once.
export const profileKey = (userId: string) => ({ pk: `USER#${userId}`, sk: 'PROFILE' });
export const familyKey = (familyId: string) => ({ pk: `FAMILY#${familyId}`, sk: 'META' });
export const blockKey = (blocker: string, blocked: string) => ({ pk: `USER#${blocker}`, sk: `BLOCK#${blocked}` });
export const convKey = (conversationId: string, sk: string) => ({ pk: `CONV#${conversationId}`, sk });
export const memberKey = (conversationId: string, userId: string) => convKey(conversationId, `MEMBER#${userId}`);
/** A user's read and delivered positions in a conversation (apart from the member item, which sends overwrite). */
export const positionsKey = (conversationId: string, userId: string) => convKey(conversationId, `POS#${userId}`);
export const connectionKey = (connectionId: string) => ({ pk: `CONN#${connectionId}`, sk: 'META' });
/** The set of a user's open connection ids, kept by $connect and $disconnect (no userId attribute: not on byUser). */
export const socketsKey = (userId: string) => ({ pk: `USER#${userId}`, sk: 'SOCKETS' });
