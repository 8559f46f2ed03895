// Sending into a group: the sender wraps a random message key for every current member (itself
// included) at that member's current key version; the server checks that the wrapped set is exactly
// the membership, stores one copy per member holding only that member's wrapped key, and pushes each
// member its own copy. Members who block the sender get nothing (the sender cannot tell). Apart from
// conversations.ts so that the 1:1 send path bundles none of it.
import type { GroupMessageInput } from '#contract/groups/schemas.ts';
import type { PushFrame } from '#contract/realtime/frames.ts';
import { assertActive } from './authn.ts';
import type { Config } from './config.ts';
import { Conflict, DomainError, NotFound, Unauthorized } from './errors.ts';
import { shareable } from './attachment-rules.ts';
import { ackOf, assertCiphertext } from './message-rules.ts';
import type { Clock, ConnectionsPort, GroupSendPort, MessageRecord, MetricsPort, SecurityEventsPort } from './ports.ts';
import type { SendOptions } from './conversations.ts';

export interface GroupSendDeps {
  config: Config;
  clock: Clock;
  connections: Pick<ConnectionsPort, 'pushTo'>;
  events: SecurityEventsPort;
  metrics: MetricsPort;
  groupSend: GroupSendPort;
}

/**
 * Stores and delivers one group message. Rounds: (1) members, META, session, caller and who blocks the
 * sender; (2) the members' key versions and socket sets; (3) the idempotency record; (4) the copies.
 * A `keys` map that is not exactly the current members with a published key, each at its current
 * version, is a 409 `members_changed` whose details map each such member to its key version.
 */
export async function sendGroupMessage(deps: GroupSendDeps, senderId: string, conversationId: string, input: GroupMessageInput, opts: SendOptions = {}) {
  const read = await deps.groupSend.load({ senderId, conversationId, sessionId: opts.session?.sessionId, attachmentIds: input.attachmentIds });
  opts.session?.check(read.caller, read.family);
  if (!read.caller) throw new Unauthorized('This account no longer exists', 'token_revoked');
  const me = read.members.find((m) => m.userId === senderId);
  if (!read.meta || !me) throw new NotFound('No such conversation', 'conversation_not_found');
  assertActive(read.caller, deps.clock.now());
  assertCiphertext(input.ciphertext, input.nonce);
  const attachments = input.attachmentIds?.length ? shareable(input.attachmentIds, read.attachments, senderId, conversationId, deps.clock.now()) : undefined;
  await opts.admitted;
  const { keyVersions, sockets } = await deps.groupSend.recipients(read.members.map((m) => m.userId));
  if (!keyVersions.has(senderId)) throw new Conflict('Publish a public key before sending to a group', 'sender_key_missing');
  // members who never published a key cannot be wrapped for: they are not required and get no copy
  const current = read.members.filter((m) => keyVersions.has(m.userId));
  const given = Object.keys(input.keys);
  const exact = given.length === current.length && current.every((m) => input.keys[m.userId]?.keyVersion === keyVersions.get(m.userId));
  if (!exact) {
    const details = Object.fromEntries(current.map((m) => [m.userId, keyVersions.get(m.userId)!]));
    throw new DomainError(409, 'members_changed', "The group's members or their keys changed: wrap the message key again and resend", details);
  }
  const copies = current
    .filter((m) => m.userId === senderId || !read.blockers.has(m.userId))
    .map((m) => ({ userId: m.userId, joinedAt: m.joinedAt, key: input.keys[m.userId]! }));
  const { clientMessageId, ciphertext, nonce, senderKeyVersion } = input;
  const stored = await deps.groupSend.store({
    conversationId,
    senderId,
    clientMessageId,
    ciphertext,
    nonce,
    senderKeyVersion,
    copies,
    retentionSeconds: deps.config.messages.retentionSeconds,
    attachments,
  });
  const ack = ackOf(stored.message);
  if (stored.duplicate) return { ack, duplicate: true, delivery: Promise.resolve() };
  deps.metrics.count('MessagesSent');
  return { ack, duplicate: false, delivery: deliver(deps, stored.copies, sockets, senderId, opts.senderConnectionId) };
}

/** Each member's sockets get that member's own copy; the sending socket gets the ack instead. */
async function deliver(
  deps: Pick<GroupSendDeps, 'connections' | 'events'>,
  copies: readonly MessageRecord[],
  sockets: Map<string, string[]>,
  senderId: string,
  senderConnectionId: string | undefined,
): Promise<void> {
  const pushes = await Promise.allSettled(
    copies.map((copy) => {
      const ids = (sockets.get(copy.recipientId) ?? []).filter((id) => id !== senderConnectionId);
      const frame: PushFrame = { type: 'message', ...copy };
      return ids.length ? deps.connections.pushTo(ids, frame) : undefined;
    }),
  );
  pushes.forEach((p, i) => {
    if (p.status === 'rejected') {
      deps.events.record('message_push_failed', {
        conversationId: copies[i]!.conversationId,
        messageId: copies[i]!.messageId,
        side: copies[i]!.recipientId === senderId ? 'sender' : 'recipient',
        errorName: (p.reason as Error)?.name,
      });
    }
  });
}
