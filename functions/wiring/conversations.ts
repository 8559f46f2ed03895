// Composition root of conversations: reads need the messages table and names; sends and receipts
// also need block checks, the per-user limits and the sockets of both sides; sends also count.
import type { ConversationDeps, ConversationReadDeps, OpeningDeps, SendDeps } from '#core/conversations.ts';
import { events, limits, users } from './auth.ts';
import { metrics } from './metrics.ts';
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

/** Sending a message: conversations() and the MessagesSent count. */
export function messageSending(eventEndpoint?: string): SendDeps {
  return { ...conversations(eventEndpoint), metrics: metrics() };
}
