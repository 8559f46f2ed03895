// Messaging rules the server can enforce without reading anything: who may talk to whom, which
// conversation a pair shares, and the shape of what is stored (sizes of ciphertext and nonce).
import { createHash } from 'node:crypto';
import type { Message } from '#contract/conversations/schemas.ts';
import { BadRequest, DomainError, Unprocessable } from './errors.ts';
import type { MessageRecord, SendRequest } from './ports.ts';

/** tweetnacl box: 24-byte nonce, 16-byte authenticator; the server never opens it. */
export const NONCE_BYTES = 24;
export const BOX_OVERHEAD_BYTES = 16;
export const MAX_CIPHERTEXT_BYTES = 64 * 1024;

/** The one direct conversation of a pair: derived from the sorted ids, so it is created once. */
export function directConversationId(a: string, b: string): string {
  const [x, y] = [a, b].sort();
  return `dm_${createHash('sha256').update(`${x}\u0000${y}`).digest('hex').slice(0, 32)}`;
}

export function assertCiphertext(ciphertext: string, nonce: string): void {
  const nonceBytes = Buffer.from(nonce, 'base64').byteLength;
  if (nonceBytes !== NONCE_BYTES) throw new Unprocessable(`nonce must be ${NONCE_BYTES} bytes, got ${nonceBytes}`, 'bad_nonce');
  const bytes = Buffer.from(ciphertext, 'base64').byteLength;
  if (bytes > MAX_CIPHERTEXT_BYTES) {
    throw new DomainError(413, 'ciphertext_too_large', `ciphertext is ${bytes} bytes; the limit is ${MAX_CIPHERTEXT_BYTES} (64 KiB)`, {
      limitBytes: MAX_CIPHERTEXT_BYTES,
    });
  }
  if (bytes < BOX_OVERHEAD_BYTES) throw new Unprocessable(`ciphertext must be at least ${BOX_OVERHEAD_BYTES} bytes (a sealed box)`, 'bad_ciphertext');
}

export function assertNotSelf(senderId: string, to: string): void {
  if (senderId === to) throw new BadRequest('You cannot start a conversation with yourself', 'cannot_message_self');
}

/** The stored record of one send: both stores (DynamoDB and the test fake) build it here. */
export function messageRecord(req: SendRequest, messageId: string, sentAtMs: number): MessageRecord {
  return {
    conversationId: req.conversationId,
    messageId,
    clientMessageId: req.clientMessageId,
    senderId: req.senderId,
    recipientId: req.recipientId,
    ciphertext: req.ciphertext,
    nonce: req.nonce,
    senderKeyVersion: req.senderKeyVersion,
    recipientKeyVersion: req.recipientKeyVersion,
    sentAt: new Date(sentAtMs).toISOString(),
    ...(req.hiddenFrom ? { hiddenFrom: req.hiddenFrom } : {}),
  };
}

/** The message as its viewers get it (the hiding marker is bookkeeping, not content). */
export function publicMessage(m: MessageRecord): Message {
  const { hiddenFrom: _h, ...rest } = m;
  return rest;
}

export function ackOf(m: MessageRecord) {
  return { clientMessageId: m.clientMessageId, messageId: m.messageId, conversationId: m.conversationId, sentAt: m.sentAt };
}
