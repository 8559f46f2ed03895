// Composition root of conversations: reads need the messages table and names; sends and receipts
// also need block checks, the per-user limits and the sockets of both sides.
import type { ConversationDeps, ConversationReadDeps, OpeningDeps } from '#core/conversations.ts';
import { events, limits, users } from './auth.ts';
import { clock, config } from './platform.ts';
import { connections } from './realtime.ts';
import { blocks, conversationStore } from './stores.ts';

export function conversationReads(): ConversationReadDeps {
  return { config: config(), clock: clock(), users: users(), conversations: conversationStore() };
}

export function conversationOpening(): OpeningDeps {
  return { ...conversationReads(), blocks: blocks(), limits: limits() };
}

/** `eventEndpoint`: a WebSocket route's own @connections URL, used when the stage sets none. */
export function conversations(eventEndpoint?: string): ConversationDeps {
  return { ...conversationOpening(), connections: connections(eventEndpoint), events };
}
