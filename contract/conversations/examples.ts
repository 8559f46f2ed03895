// Examples of the conversation routes for the API documents (contract/examples.ts says why they live apart).
import { at, b64, errorExample, httpExamples, ids, validationFailed } from '../examples.ts';
import { createConversation } from './create-conversation.ts';
import { listConversations } from './list-conversations.ts';
import { listMessages } from './list-messages.ts';
import { postMessage } from './post-message.ts';
import { syncMessages } from './sync-messages.ts';

/** What Ada sends Ben: ciphertext and nonce only, boxed to Ben's key version 1 with Ada's version 2. */
export const adaToBen = { clientMessageId: 'c-7f3a9e21-0001', ciphertext: b64(48, 11), nonce: b64(24, 12), senderKeyVersion: 2, recipientKeyVersion: 1 };
export const adaToBenStored = { conversationId: ids.direct, messageId: ids.message1, senderId: ids.ada, recipientId: ids.ben, sentAt: at(20), ...adaToBen };
const benToAda = {
  conversationId: ids.direct,
  messageId: ids.message2,
  clientMessageId: 'c-0b5d8c44-0001',
  senderId: ids.ben,
  recipientId: ids.ada,
  ciphertext: b64(40, 13),
  nonce: b64(24, 14),
  senderKeyVersion: 1,
  recipientKeyVersion: 2,
  sentAt: at(21),
};
export const sentAck = { clientMessageId: adaToBen.clientMessageId, messageId: ids.message1, conversationId: ids.direct, sentAt: at(20) };

export const directConversation = {
  conversationId: ids.direct,
  kind: 'direct',
  peer: { userId: ids.ben, displayName: 'Ben Okafor' },
  createdAt: at(10),
  lastMessage: { messageId: ids.message2, senderId: ids.ben, sentAt: at(21) },
  unreadCount: 1,
  readUpTo: ids.message1,
} as const;
const newConversation = {
  conversationId: ids.direct,
  kind: 'direct',
  peer: { userId: ids.ben, displayName: 'Ben Okafor' },
  createdAt: at(10),
  unreadCount: 0,
} as const;
export const groupConversation = {
  conversationId: ids.group,
  kind: 'group',
  name: 'Analytical Engine',
  memberCount: 3,
  createdAt: at(12),
  lastMessage: { messageId: ids.message3, senderId: ids.cleo, sentAt: at(25) },
  unreadCount: 0,
  readUpTo: ids.message3,
} as const;

const notMember = errorExample(404, 'Unknown conversation, or the caller is not a member (the same answer)', 'conversation_not_found', 'No such conversation');

export const conversationsExamples = [
  httpExamples(createConversation, {
    bodies: { withBen: { userId: ids.ben } },
    responses: { 200: directConversation, 201: newConversation },
    errors: {
      self: errorExample(400, 'Ada names herself', 'cannot_message_self', 'You cannot start a conversation with yourself'),
      unknown: errorExample(404, 'No such user', 'user_not_found', 'No such user'),
    },
  }),
  httpExamples(listConversations, {
    query: { limit: '20' },
    responses: { 200: { conversations: [groupConversation, directConversation], cursor: 'eyJwayI6IkNPTlYj...' } },
    errors: { badLimit: validationFailed('query', 'query.limit', 'Too big: expected number to be <=50', 'too_big') },
  }),
  httpExamples(listMessages, {
    path: { conversationId: ids.direct },
    query: { before: ids.message3, limit: '50' },
    responses: { 200: { messages: [benToAda, adaToBenStored], before: ids.message1 } },
    errors: { notMember },
  }),
  httpExamples(postMessage, {
    path: { conversationId: ids.direct },
    bodies: { message: adaToBen },
    responses: { 200: sentAck, 201: sentAck },
    errors: {
      notMember,
      blocked: errorExample(
        403,
        'The sender blocks the recipient (a recipient who blocks the sender is not revealed)',
        'user_blocked',
        'You block this user; unblock them to send',
      ),
    },
  }),
  httpExamples(syncMessages, {
    query: { after: ids.message1, limit: '100' },
    responses: { 200: { messages: [benToAda], cursor: ids.message2, hasMore: false } },
    errors: { badCursor: errorExample(400, 'A cursor this route did not hand out', 'invalid_cursor', 'Not a sync cursor') },
  }),
];
