// Messaging rules the server can enforce without reading anything: who may talk to whom, which
// conversation a pair shares, and the shape of what is stored (sizes of ciphertext and nonce).
import { createHash } from 'node:crypto';
import { encodeTime } from 'ulid';
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

/**
 * How long after its id was drawn a queue entry can still become visible: the id is drawn before the
 * send's writes, which end within the send function's timeout (10 s), and a late repair writes under a
 * fresh id instead. A sync cursor never moves past this horizon; newer ids it already returned ride in
 * the cursor, so nothing is skipped and nothing is returned twice.
 */
export const SYNC_SETTLE_SECONDS = 30;
/** At most this many recent ids ride in a sync cursor; a page stops early rather than grow it. */
export const SYNC_CURSOR_MAX_RECENT = 200;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** The smallest ULID of a millisecond: every id drawn at or after `ms` sorts at or above it. */
export function ulidFloor(ms: number): string {
  return encodeTime(Math.max(0, Math.floor(ms)), 10) + '0'.repeat(16);
}

/** The sync cursor: a settled position, then the ids after it already returned (all ULIDs, 26 characters each). */
export function parseSyncCursor(text: string | undefined): { settled: string; recent: Set<string> } {
  if (!text) return { settled: '', recent: new Set() };
  const ids = text.match(/.{1,26}/g) ?? [];
  if (text.length % 26 !== 0 || !ids.every((id) => ULID.test(id))) {
    throw new BadRequest('Not a sync cursor', 'invalid_cursor');
  }
  const [settled, ...recent] = ids;
  return { settled: settled === '0'.repeat(26) ? '' : settled!, recent: new Set(recent) };
}

/**
 * The cursor after a page. `frontier`: the last queue id the page's scan went through (consumed, or
 * skipped as already returned), or null when it reached the end of the queue. Everything up to the
 * frontier has been returned, except entries not yet visible, which can only be newer than the settle
 * horizon: so the settled position moves to the frontier, but never past the horizon, and the ids
 * returned beyond it are listed instead.
 */
export function nextSyncCursor(before: { settled: string; recent: Set<string> }, consumed: readonly string[], frontier: string | null, nowMs: number): string {
  const horizon = ulidFloor(nowMs - SYNC_SETTLE_SECONDS * 1000);
  const reach = frontier === null || frontier > horizon ? horizon : frontier;
  const settled = before.settled > reach ? before.settled : reach;
  const recent = [...new Set([...before.recent, ...consumed])].filter((id) => id > settled).sort();
  return (settled || '0'.repeat(26)) + recent.join('');
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
    ...(req.attachments?.length ? { attachmentIds: req.attachments.map((a) => a.attachmentId) } : {}),
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
