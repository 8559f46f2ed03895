// GET /api/conversations: the caller's inbox, latest activity first, with unread counts.
import { BadRequest } from '#core/errors.ts';
import { countUnread, listInbox } from '#adapters/messages.ts';
import { displayNames } from '#adapters/users.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { routes } from '#lib/routes.ts';

function decodeCursor(cursor: string | undefined, userId: string): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (key.gsi1pk !== `INBOX#${userId}`) throw new Error('foreign cursor');
    return key;
  } catch {
    throw new BadRequest('Invalid cursor', 'invalid_cursor');
  }
}

export const handler = httpHandler(routes.listConversations, async ({ auth, query }) => {
  const page = await listInbox(auth.userId, query.limit ?? 20, decodeCursor(query.cursor, auth.userId));
  const names = await displayNames(page.members.map((m) => m.peerId));
  const conversations = await Promise.all(
    page.members.map(async (m) => ({
      conversationId: m.conversationId,
      peer: { userId: m.peerId, ...(names.has(m.peerId) ? { displayName: names.get(m.peerId) } : {}) },
      createdAt: m.createdAt,
      ...(m.lastMessageId ? { lastMessage: { messageId: m.lastMessageId, senderId: m.lastSenderId!, sentAt: m.lastMessageAt! } } : {}),
      unreadCount: m.lastMessageId ? await countUnread(m.conversationId, auth.userId, m.readUpTo) : 0,
      ...(m.readUpTo ? { readUpTo: m.readUpTo } : {}),
    })),
  );
  const cursor = page.next ? Buffer.from(JSON.stringify(page.next)).toString('base64url') : undefined;
  return { body: { conversations, ...(cursor ? { cursor } : {}) } };
});
