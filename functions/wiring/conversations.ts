// Composition root of conversations: reads need the messages table and names; sends and receipts
// also need block checks, the per-user limits and the sockets of both sides; sends also count.
// Only the reading routes get the listing reads (stores.ts: conversationStore vs messageStore).
import type { ConversationBaseDeps, ConversationDeps, ConversationReadDeps, OpeningDeps, SendDeps } from '#core/conversations.ts';
import { events, limits, users } from './auth.ts';
import { metrics } from './metrics.ts';
import { clock, config } from './platform.ts';
import { connections } from './realtime.ts';
import { blocks, conversationStore, groupQueryStore, messageStore, sendContext } from './stores.ts';

export function conversationReads(): ConversationReadDeps {
  return { ...conversationBase(), conversations: conversationStore(), groups: groupQueryStore() };
}

function conversationBase(): ConversationBaseDeps {
  return { config: config(), clock: clock(), users: users(), conversations: messageStore() };
}

export function conversationOpening(): OpeningDeps {
  return { ...conversationBase(), blocks: blocks(), limits: limits() };
}

/** `eventEndpoint`: a WebSocket route's own @connections URL, used when the stage sets none. */
export function conversations(eventEndpoint?: string): ConversationDeps {
  return { ...conversationOpening(), connections: connections(eventEndpoint), events };
}

/** Sending a message: its one-round read (blocks included), the limits, pushes and the MessagesSent count. */
export function messageSending(eventEndpoint?: string): SendDeps {
  return {
    ...conversationBase(),
    limits: limits(),
    connections: connections(eventEndpoint),
    events,
    metrics: metrics(),
    sendContext: sendContext(),
  };
}
