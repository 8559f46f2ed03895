// Examples of the realtime routes and frames for the API documents (contract/examples.ts says why
// they live apart).
import type * as z from 'zod/mini';
import { adaToBen, adaToBenStored, sentAck } from '../conversations/examples.ts';
import { at, httpExamples, ids, wsExamples } from '../examples.ts';
import { groupMessage } from '../groups/examples.ts';
import { wsConnect } from './connect.ts';
import { createWsTicket } from './create-ticket.ts';
import { wsDefault } from './default.ts';
import { delivered } from './delivered.ts';
import { wsDisconnect } from './disconnect.ts';
import type { pushFrames } from './frames.ts';
import { markRead } from './mark-read.ts';
import { sendMessage } from './send-message.ts';
import { typing } from './typing.ts';

const ticket = 'f3Jm8QpZ0rT5vWy2Bc7Dh1Kn4Ls9Xa6Ge3Ui8Oq0Rw5';
const notMember = { type: 'error', code: 'conversation_not_found', message: 'No such conversation' } as const;

export const realtimeHttpExamples = [
  httpExamples(createWsTicket, {
    responses: { 201: { ticket, expiresIn: 30 } },
  }),
];

export const realtimeWsExamples = [
  wsExamples(wsConnect, { requests: { ticket: { ticket } }, replies: {} }),
  wsExamples(wsDisconnect, { replies: {} }),
  wsExamples(sendMessage, {
    requests: {
      direct: { action: 'sendMessage', to: ids.ben, ...adaToBen },
      directById: { action: 'sendMessage', conversationId: ids.direct, ...adaToBen },
      group: { action: 'sendMessage', conversationId: ids.group, ...groupMessage },
    },
    replies: {
      ack: { type: 'ack', ...sentAck },
      error: {
        type: 'error',
        code: 'rate_limited',
        message: 'Too many requests for messages sent by this account; retry in 4 s',
        details: { limited: 'messages sent by this account', retryAfterSeconds: 4 },
        retryAfterSeconds: 4,
      },
    },
  }),
  wsExamples(typing, {
    requests: { direct: { action: 'typing', to: ids.ben }, group: { action: 'typing', conversationId: ids.group } },
    replies: { error: notMember },
  }),
  wsExamples(markRead, {
    requests: { read: { action: 'markRead', conversationId: ids.direct, upToMessageId: ids.message2 } },
    replies: { error: notMember },
  }),
  wsExamples(delivered, {
    requests: { delivered: { action: 'delivered', conversationId: ids.direct, upToMessageId: ids.message2 } },
    replies: { error: notMember },
  }),
  wsExamples(wsDefault, {
    requests: { ping: { action: 'ping' }, unknown: { action: 'dance' } },
    replies: {
      pong: { type: 'pong', time: at(30) },
      error: { type: 'error', code: 'unknown_action', message: 'Unknown action "dance"; known actions: ping, sendMessage, typing, markRead, delivered' },
    },
  }),
];

/** A group message as a member receives it: the ciphertext, and only that member's own wrapped key. */
const groupMessageFrame = {
  type: 'message',
  conversationId: ids.group,
  messageId: ids.message3,
  clientMessageId: groupMessage.clientMessageId,
  senderId: ids.ada,
  recipientId: ids.ben,
  ciphertext: groupMessage.ciphertext,
  nonce: groupMessage.nonce,
  senderKeyVersion: 2,
  recipientKeyVersion: 1,
  sentAt: at(25),
  key: groupMessage.keys[ids.ben],
} as const;

/** Examples of every frame the server pushes unasked, by type. */
export const pushFrameExamples: { readonly [K in keyof typeof pushFrames]: readonly z.output<(typeof pushFrames)[K]>[] } = {
  message: [{ type: 'message', ...adaToBenStored }, groupMessageFrame],
  typing: [{ type: 'typing', from: ids.ada, conversationId: ids.direct }],
  read: [{ type: 'read', conversationId: ids.direct, by: ids.ben, upToMessageId: ids.message1 }],
  delivered: [{ type: 'delivered', conversationId: ids.direct, by: ids.ben, upToMessageId: ids.message1 }],
  presence: [
    { type: 'presence', userId: ids.ben, status: 'online' },
    { type: 'presence', userId: ids.ben, status: 'offline', lastSeen: at(45) },
  ],
  keyChanged: [
    { type: 'keyChanged', userId: ids.ada, version: 3, fingerprint: '05819 44730 12277 98413 60052 37716', identityChanged: false, changedAt: at(46) },
  ],
  deviceLinked: [{ type: 'deviceLinked', deviceId: ids.adaPhone, name: "Ada's phone", linkedAt: at(31) }],
  groupUpdated: [
    { type: 'groupUpdated', conversationId: ids.group, event: 'joined', by: ids.cleo, userId: ids.cleo },
    { type: 'groupUpdated', conversationId: ids.group, event: 'renamed', by: ids.ada },
  ],
};
