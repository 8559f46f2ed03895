// Conversations and delivery over in-memory ports: a conversation opens once, messages reach every
// device of both sides (never across a block), retries never duplicate, receipts only move forward,
// and typing reaches only an inbox that already has the conversation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  history,
  listConversations,
  openConversation,
  receipt,
  sendMessage as send,
  sendToConversation as sendTo,
  sync,
  typing,
  type SendInput,
} from '#core/conversations.ts';

/** A send as a handler runs it: the ack, then (alongside it) the pushes, all settled. */
async function sendMessage(...args: Parameters<typeof send>) {
  const { delivery, ...result } = await send(...args);
  await delivery;
  return result;
}
async function sendToConversation(...args: Parameters<typeof sendTo>) {
  const { delivery, ...result } = await sendTo(...args);
  await delivery;
  return result;
}
import { directConversationId, MAX_CIPHERTEXT_BYTES, SYNC_SETTLE_SECONDS } from '#core/message-rules.ts';
import { addUser, conversationDeps, conversationReadDeps, fakeWorld, openingDeps, rejectsWith, sendDeps, type World } from '../support/fakes.ts';

const b64 = (bytes: number, fill = 7) => Buffer.alloc(bytes, fill).toString('base64');
const msg = (clientMessageId: string, overrides: Partial<SendInput> = {}): SendInput => ({
  clientMessageId,
  ciphertext: b64(48),
  nonce: b64(24, 1),
  senderKeyVersion: 1,
  recipientKeyVersion: 1,
  ...overrides,
});

type Frame = Record<string, unknown> & { type: string };
const frames = (w: World, connectionId: string) => w.connections.framesOn(connectionId) as Frame[];

async function threeUsers(w: World) {
  const [ada, bob, cy] = await Promise.all([addUser(w, { displayName: 'Ada' }), addUser(w, { displayName: 'Bob' }), addUser(w, { displayName: 'Cy' })]);
  return { ada: ada.userId, bob: bob.userId, cy: cy.userId };
}

describe('opening a conversation', () => {
  test('the pair has one conversation, created once, shown only to the opener until a message arrives', async () => {
    const w = fakeWorld();
    const { ada, bob } = await threeUsers(w);
    const first = await openConversation(openingDeps(w), ada, bob);
    w.clock.advance(1000);
    const again = await openConversation(openingDeps(w), ada, bob);
    assert.deepEqual([first.created, again.created], [true, false]);
    assert.equal(again.createdAt, first.createdAt);
    assert.equal(first.conversationId, directConversationId(bob, ada));
    assert.equal((await listConversations(conversationReadDeps(w), bob, 20, undefined)).conversations.length, 0);
    const adas = await listConversations(conversationReadDeps(w), ada, 20, undefined);
    assert.deepEqual(adas.conversations, [
      { conversationId: first.conversationId, kind: 'direct', peer: { userId: bob, displayName: 'Bob' }, createdAt: first.createdAt, unreadCount: 0 },
    ]);
  });

  test('an auto-restricted account cannot open new conversations but keeps talking in its existing ones', async () => {
    const w = fakeWorld();
    const { ada, bob, cy } = await threeUsers(w);
    await openConversation(openingDeps(w), ada, cy);
    await w.users.update(ada, { restrictedAt: new Date(w.clock.now()).toISOString() });
    await rejectsWith(openConversation(openingDeps(w), ada, bob), 403, 'account_restricted');
    await rejectsWith(sendMessage(sendDeps(w), ada, bob, msg('restricted-1')), 403, 'account_restricted');
    const sent = await sendMessage(sendDeps(w), ada, cy, msg('restricted-2'));
    assert.equal(sent.duplicate, false);
    assert.equal(w.conversations.metas.size, 1);
  });

  test('new conversations count against the per-user limit; reopening does not', async () => {
    const w = fakeWorld({ env: { RATE_LIMITS: '{"conversationUser":{"limit":2,"windowSeconds":3600}}' } });
    const { ada, bob, cy } = await threeUsers(w);
    const dee = (await addUser(w)).userId;
    await openConversation(openingDeps(w), ada, bob);
    await openConversation(openingDeps(w), ada, bob);
    await openConversation(openingDeps(w), ada, cy);
    await rejectsWith(openConversation(openingDeps(w), ada, dee), 429, 'rate_limited');
  });

  test('self, unknown recipients and malformed ciphertext are refused and store nothing', async () => {
    const w = fakeWorld();
    const { ada, bob } = await threeUsers(w);
    await rejectsWith(sendMessage(sendDeps(w), ada, ada, msg('self-0001')), 400, 'cannot_message_self');
    await rejectsWith(sendMessage(sendDeps(w), ada, '00000000-0000-4000-8000-000000000000', msg('nobody-01')), 404, 'user_not_found');
    await rejectsWith(sendMessage(sendDeps(w), ada, bob, msg('nonce-001', { nonce: b64(12) })), 422, 'bad_nonce');
    await rejectsWith(sendMessage(sendDeps(w), ada, bob, msg('short-001', { ciphertext: b64(15) })), 422, 'bad_ciphertext');
    await rejectsWith(sendMessage(sendDeps(w), ada, bob, msg('large-001', { ciphertext: b64(MAX_CIPHERTEXT_BYTES + 1) })), 413, 'ciphertext_too_large');
    assert.equal(w.conversations.metas.size, 0);
    assert.equal(w.conversations.messages.size, 0);
  });
});

describe('sending', () => {
  test('a message reaches every device of the recipient and the sender’s other devices, not the sending one', async () => {
    const w = fakeWorld();
    const { ada, bob } = await threeUsers(w);
    const [a1, a2, b1, b2] = [w.connections.open(ada, 'sa'), w.connections.open(ada, 'sa2'), w.connections.open(bob, 'sb'), w.connections.open(bob, 'sb2')];
    const { ack, duplicate } = await sendMessage(sendDeps(w), ada, bob, msg('hello-0001'), { senderConnectionId: a1 });
    assert.equal(duplicate, false);
    assert.deepEqual(frames(w, a1), []);
    const expected = {
      type: 'message',
      conversationId: ack.conversationId,
      messageId: ack.messageId,
      clientMessageId: 'hello-0001',
      senderId: ada,
      recipientId: bob,
      ciphertext: msg('x').ciphertext,
      nonce: msg('x').nonce,
      senderKeyVersion: 1,
      recipientKeyVersion: 1,
      sentAt: new Date(w.clock.now()).toISOString(),
    };
    for (const c of [a2, b1, b2]) assert.deepEqual(frames(w, c), [expected]);
    assert.equal(ack.sentAt, expected.sentAt);
  });

  test('sync returns what was delivered to the user, oldest first, once along a chain of cursors; sent messages stay in history', async () => {
    const w = fakeWorld();
    const { ada, bob, cy } = await threeUsers(w);
    const d = sendDeps(w);
    const sent = [
      await sendMessage(d, ada, bob, msg('sync-0001')),
      await sendMessage(d, bob, ada, msg('sync-0002')),
      await sendMessage(d, ada, cy, msg('sync-0003')),
      await sendMessage(d, ada, bob, msg('sync-0004')),
    ].map((s) => s.ack.messageId);
    const reads = conversationReadDeps(w);
    assert.deepEqual(
      (await sync(reads, ada, undefined, undefined)).messages.map((m) => m.messageId),
      [sent[1]],
      "ada's queue holds what she received, not what she sent",
    );
    const bobAll = await sync(reads, bob, undefined, undefined);
    assert.deepEqual(
      bobAll.messages.map((m) => m.messageId),
      [sent[0], sent[3]],
    );
    assert.deepEqual((await sync(reads, bob, bobAll.cursor, undefined)).messages, [], 'nothing twice right after');
    // paging: a chain of cursors walks the queue without gaps or repeats, also within the settle horizon
    const first = await sync(reads, bob, undefined, 1);
    assert.deepEqual([first.messages.map((m) => m.messageId), first.hasMore], [[sent[0]], true]);
    const second = await sync(reads, bob, first.cursor, 1);
    assert.deepEqual([second.messages.map((m) => m.messageId), second.hasMore], [[sent[3]], false]);
    // a message that appears behind the newest one returned (a slower writer) is still found
    const late = await sendMessage(d, cy, bob, msg('sync-0005'));
    assert.deepEqual(
      (await sync(reads, bob, second.cursor, 10)).messages.map((m) => m.messageId),
      [late.ack.messageId],
    );
    await rejectsWith(sync(reads, bob, 'not-a-cursor', 10), 400, 'invalid_cursor');
  });

  test('the sync cursor settles: ids older than the horizon leave it, so it stays small', async () => {
    const w = fakeWorld();
    const { ada, bob } = await threeUsers(w);
    const reads = conversationReadDeps(w);
    for (let i = 0; i < 3; i++) await sendMessage(sendDeps(w), ada, bob, msg(`settle-00${i}`));
    const fresh = await sync(reads, bob, undefined, 10);
    assert.equal(fresh.cursor.length, 26 * 4, 'a settled position and the three recent ids');
    w.clock.advance((SYNC_SETTLE_SECONDS + 1) * 1000);
    const settled = await sync(reads, bob, fresh.cursor, 10);
    assert.deepEqual([settled.messages, settled.cursor.length], [[], 26], 'only the settled position is left');
    assert.ok(settled.cursor > fresh.cursor.slice(-26), 'past the last id returned');
    const later = await sendMessage(sendDeps(w), ada, bob, msg('settle-009'));
    assert.deepEqual(
      (await sync(reads, bob, settled.cursor, 10)).messages.map((m) => m.messageId),
      [later.ack.messageId],
    );
  });

  test('a retry with the same clientMessageId returns the first ack and stores and pushes nothing', async () => {
    const w = fakeWorld();
    const { ada, bob } = await threeUsers(w);
    const b1 = w.connections.open(bob, 'sb');
    const first = await sendMessage(sendDeps(w), ada, bob, msg('retry-0001'));
    w.clock.advance(5000);
    const retry = await sendMessage(sendDeps(w), ada, bob, msg('retry-0001', { ciphertext: b64(64, 9) }));
    assert.deepEqual(retry, { ack: first.ack, duplicate: true });
    assert.equal(frames(w, b1).length, 1);
    assert.equal(w.conversations.messages.get(first.ack.conversationId)?.size, 1);
    assert.equal((await sync(conversationReadDeps(w), bob, undefined, 10)).messages.length, 1);
    // idempotency is per sender: the same id from the other side is another message
    const reply = await sendMessage(sendDeps(w), bob, ada, msg('retry-0001'));
    assert.equal(reply.duplicate, false);
    assert.notEqual(reply.ack.messageId, first.ack.messageId);
  });

  test('a message to someone who blocks the sender looks sent to the sender but never reaches the blocker', async () => {
    const w = fakeWorld();
    const { ada, bob } = await threeUsers(w);
    const [a1, a2, b1] = [w.connections.open(ada, 'sa'), w.connections.open(ada, 'sa2'), w.connections.open(bob, 'sb')];
    await w.blocks.block(bob, ada);
    const { ack, duplicate } = await sendMessage(sendDeps(w), ada, bob, msg('hidden-001'), { senderConnectionId: a1 });
    assert.equal(duplicate, false);
    assert.deepEqual(
      frames(w, a2).map((f) => [f.type, f.messageId, 'hiddenFrom' in f]),
      [['message', ack.messageId, false]],
    );
    assert.deepEqual(frames(w, b1), []);
    assert.deepEqual(
      (await history(conversationReadDeps(w), ada, ack.conversationId, undefined, undefined)).messages.map((m) => m.messageId),
      [ack.messageId],
    );
    await rejectsWith(history(conversationReadDeps(w), bob, ack.conversationId, undefined, undefined), 404, 'conversation_not_found');
    assert.deepEqual((await sync(conversationReadDeps(w), bob, undefined, 10)).messages, []);
    assert.deepEqual((await listConversations(conversationReadDeps(w), bob, 10, undefined)).conversations, []);

    // unblocking restores future delivery only
    await w.blocks.unblock(bob, ada);
    const later = await sendMessage(sendDeps(w), ada, bob, msg('hidden-002'));
    assert.deepEqual(
      frames(w, b1).map((f) => f.messageId),
      [later.ack.messageId],
    );
    assert.deepEqual(
      (await history(conversationReadDeps(w), bob, ack.conversationId, undefined, undefined)).messages.map((m) => m.messageId),
      [later.ack.messageId],
    );
  });

  test('a sender who blocks the recipient must unblock first', async () => {
    const w = fakeWorld();
    const { ada, bob } = await threeUsers(w);
    await w.blocks.block(ada, bob);
    await rejectsWith(sendMessage(sendDeps(w), ada, bob, msg('blocker-01')), 403, 'user_blocked');
    assert.equal(w.conversations.messages.size, 0);
  });

  test('a suspended sender cannot send', async () => {
    const w = fakeWorld();
    const { ada, bob } = await threeUsers(w);
    await w.users.update(ada, { status: 'suspended', suspendedUntil: w.clock.now() + 60_000 });
    await rejectsWith(sendMessage(sendDeps(w), ada, bob, msg('suspend-01')), 403, 'account_suspended');
  });

  test('sending into a conversation by id needs membership', async () => {
    const w = fakeWorld();
    const { ada, bob, cy } = await threeUsers(w);
    const { conversationId } = await openConversation(openingDeps(w), ada, bob);
    await rejectsWith(sendToConversation(sendDeps(w), cy, conversationId, msg('intrude-01')), 404, 'conversation_not_found');
    const sent = await sendToConversation(sendDeps(w), ada, conversationId, msg('member-001'));
    assert.equal((await w.conversations.getMessage(conversationId, sent.ack.messageId))?.recipientId, bob);
  });
});

describe('receipts and typing', () => {
  async function threeMessages(w: World) {
    const { ada, bob, cy } = await threeUsers(w);
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push((await sendMessage(sendDeps(w), ada, bob, msg(`receipt-${n}00`))).ack.messageId);
    return { ada, bob, cy, ids, conversationId: directConversationId(ada, bob) };
  }

  test('read positions only move forward, and the sender hears of each move once', async () => {
    const w = fakeWorld();
    const { ada, bob, ids, conversationId } = await threeMessages(w);
    const a1 = w.connections.open(ada, 'sa');
    await receipt(conversationDeps(w), 'read', bob, conversationId, ids[1]!);
    await receipt(conversationDeps(w), 'read', bob, conversationId, ids[0]!);
    await receipt(conversationDeps(w), 'read', bob, conversationId, ids[1]!);
    await receipt(conversationDeps(w), 'read', bob, conversationId, ids[2]!);
    await receipt(conversationDeps(w), 'delivered', bob, conversationId, ids[0]!);
    assert.deepEqual(frames(w, a1), [
      { type: 'read', conversationId, by: bob, upToMessageId: ids[1] },
      { type: 'read', conversationId, by: bob, upToMessageId: ids[2] },
      { type: 'delivered', conversationId, by: bob, upToMessageId: ids[0] },
    ]);
    const [inbox] = (await listConversations(conversationReadDeps(w), bob, 10, undefined)).conversations;
    assert.deepEqual([inbox?.readUpTo, inbox?.unreadCount], [ids[2], 0]);
  });

  test('unread counts what the peer sent after the read position', async () => {
    const w = fakeWorld();
    const { bob, ids, conversationId } = await threeMessages(w);
    await receipt(conversationDeps(w), 'read', bob, conversationId, ids[0]!);
    const [inbox] = (await listConversations(conversationReadDeps(w), bob, 10, undefined)).conversations;
    assert.deepEqual([inbox?.unreadCount, inbox?.lastMessage?.messageId], [2, ids[2]]);
  });

  test('receipts never cross a block, in either direction', async () => {
    const w = fakeWorld();
    const { ada, bob, ids, conversationId } = await threeMessages(w);
    const a1 = w.connections.open(ada, 'sa');
    await w.blocks.block(bob, ada);
    await receipt(conversationDeps(w), 'read', bob, conversationId, ids[0]!);
    await w.blocks.unblock(bob, ada);
    await w.blocks.block(ada, bob);
    await receipt(conversationDeps(w), 'read', bob, conversationId, ids[1]!);
    assert.deepEqual(frames(w, a1), []);
    assert.equal((await w.conversations.getMember(conversationId, bob))?.readUpTo, ids[1]);
  });

  test('a receipt for a message hidden from the reader, or in someone else’s conversation, is 404', async () => {
    const w = fakeWorld();
    const { ada, bob, cy, conversationId } = await threeMessages(w);
    await w.blocks.block(bob, ada);
    const hidden = await sendMessage(sendDeps(w), ada, bob, msg('hidden-100'));
    await rejectsWith(receipt(conversationDeps(w), 'read', bob, conversationId, hidden.ack.messageId), 404, 'message_not_found');
    await rejectsWith(receipt(conversationDeps(w), 'read', cy, conversationId, hidden.ack.messageId), 404, 'conversation_not_found');
  });

  test('typing reaches only an inbox that has the conversation, and never across a block', async () => {
    const w = fakeWorld();
    const { ada, bob, cy } = await threeUsers(w);
    const b1 = w.connections.open(bob, 'sb');
    await openConversation(openingDeps(w), ada, bob);
    await typing(conversationDeps(w), ada, bob); // bob's inbox does not have it yet
    assert.deepEqual(frames(w, b1), []);
    await rejectsWith(typing(conversationDeps(w), cy, bob), 404, 'conversation_not_found');

    await sendMessage(sendDeps(w), ada, bob, msg('typing-001'));
    await typing(conversationDeps(w), ada, bob);
    const conversationId = directConversationId(ada, bob);
    assert.deepEqual(frames(w, b1).slice(1), [{ type: 'typing', from: ada, conversationId }]);

    await w.blocks.block(bob, ada);
    await typing(conversationDeps(w), ada, bob);
    assert.equal(frames(w, b1).length, 2);
  });
});
