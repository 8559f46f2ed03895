// Typing and read/delivered receipts in a group. They follow membership: only members send them, only
// the other current members hear them, and never across a block in either direction (if C blocks A, C
// gets none of A's typing or receipts and A's answer is the same). Receipts are per member: each member's
// own read and delivered positions (CONV#g / POS#u, forward only), up to a message it holds a copy of.
// Apart from conversations.ts so that the 1:1 paths bundle none of it.
import type { PushFrame } from '#contract/realtime/frames.ts';
import { NotFound } from './errors.ts';
import type { BlocksPort, ConnectionsPort, GroupMemberRecord, GroupSignalsPort, MessageStorePort } from './ports.ts';

export interface GroupSignalDeps {
  signals: GroupSignalsPort;
  blocks: Pick<BlocksPort, 'blockRelations'>;
  conversations: Pick<MessageStorePort, 'advancePosition'>;
  connections: Pick<ConnectionsPort, 'pushTo'>;
}

/** Group ids are `gr_…`, direct ones `dm_…` (contract/common.ts). */
export const isGroupId = (conversationId: string) => conversationId.startsWith('gr_');

const notFound = () => new NotFound('No such conversation', 'conversation_not_found');

/** The other current members the user may reach: no one on either side of a block with the user. */
export function audienceOf(members: readonly GroupMemberRecord[], userId: string, relations: ReadonlySet<string>): string[] {
  return members.map((m) => m.userId).filter((u) => u !== userId && !relations.has(u));
}

/** One round of reads (members, block relations, the caller's copy), the caller's membership checked. */
async function load(deps: GroupSignalDeps, g: string, userId: string, messageId?: string) {
  const [read, relations] = await Promise.all([deps.signals.load({ conversationId: g, userId, messageId }), deps.blocks.blockRelations(userId)]);
  if (!read.members.some((m) => m.userId === userId)) throw notFound();
  return { ...read, audience: audienceOf(read.members, userId, relations) };
}

/** The audience's sockets (their socket sets, no Query per member), then one push per socket. */
async function pushToMembers(deps: GroupSignalDeps, audience: readonly string[], frame: PushFrame): Promise<void> {
  if (!audience.length) return;
  const sockets = await deps.signals.sockets(audience);
  const ids = audience.flatMap((u) => sockets.get(u) ?? []);
  if (ids.length) await deps.connections.pushTo(ids, frame);
}

/** "typing" to the other current members; a non-member gets the 404 of a conversation that does not exist. */
export async function groupTyping(deps: GroupSignalDeps, from: string, g: string): Promise<void> {
  const { audience } = await load(deps, g, from);
  await pushToMembers(deps, audience, { type: 'typing', from, conversationId: g });
}

/**
 * Moves the member's own read or delivered position (forward only) to a message it holds a copy of,
 * and tells the other current members of each move. A message the member has no copy of (from before
 * it joined, from someone it blocks, or from another group) is a 404 `message_not_found`.
 */
export async function groupReceipt(deps: GroupSignalDeps, kind: 'read' | 'delivered', userId: string, g: string, upToMessageId: string): Promise<void> {
  const { hasCopy, audience } = await load(deps, g, userId, upToMessageId);
  if (!hasCopy) throw new NotFound('No such message in this conversation', 'message_not_found');
  const moved = await deps.conversations.advancePosition(g, userId, kind === 'read' ? 'readUpTo' : 'deliveredUpTo', upToMessageId);
  if (moved) await pushToMembers(deps, audience, { type: kind, conversationId: g, by: userId, upToMessageId });
}
