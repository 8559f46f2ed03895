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

// ---- groups (messages table, CONV#<gid>; the per-user group count under USER#<id>) ----
/** An invitation (GSI byMember: INVITES#<user> / <createdAt>#<gid>). */
export const inviteKey = (conversationId: string, userId: string) => convKey(conversationId, `INVITE#${userId}`);
/** A member's inbox entry of a group (GSI byMember: INBOX#<user>), apart from the MEMBER item that holds the role. */
export const entryKey = (conversationId: string, userId: string) => convKey(conversationId, `ENTRY#${userId}`);
/** A member's own copy of a group message or system entry: the history it reads. */
export const viewKey = (conversationId: string, userId: string, messageId: string) => convKey(conversationId, `VIEW#${userId}#${messageId}`);
/** How many groups a user is a member of (checked against the per-user maximum when joining). */
export const groupCountKey = (userId: string) => ({ pk: `USER#${userId}`, sk: 'GROUPS' });
/** A user's current public key set (keys table). */
export const publicKeyKey = (userId: string) => ({ pk: `USER#${userId}`, sk: 'KEY#current' });
/** A user's delivery-queue entry (read by sync). */
export const queueKey = (userId: string, entryId: string) => ({ pk: `QUEUE#${userId}`, sk: `MSG#${entryId}` });

// ---- attachments (attachments table) ----
/** An upload's record. */
export const attachmentKey = (attachmentId: string) => ({ pk: `ATT#${attachmentId}`, sk: 'META' });
/** A message that shared the attachment. */
export const shareKey = (attachmentId: string, messageId: string) => ({ pk: `ATT#${attachmentId}`, sk: `SHARE#${messageId}` });
