// GET /api/conversations: the caller's inbox, latest activity first, with unread counts.
import { cursors, decodeCursor, encodeCursor } from '#adapters/cursor.ts';
import { countUnread, listInbox } from '#adapters/messages.ts';
import { displayNames } from '#adapters/users.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { listConversations as contract } from '#contract/conversations/list-conversations.ts';

export const handler = httpHandler(contract).handle(async ({ auth, query }) => {
  const page = await listInbox(auth.userId, query.limit ?? 20, decodeCursor(query.cursor, cursors.inbox(auth.userId)));
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
  const cursor = encodeCursor(page.next);
  return { body: { conversations, ...(cursor ? { cursor } : {}) } };
});
