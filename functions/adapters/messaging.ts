// Wires conversation logic to DynamoDB and the @connections API, once per container.
import { config } from '#core/config.ts';
import { enforce } from '#core/rate-limit.ts';
import { counters } from './ephemeral.ts';
import type { MessagingDeps } from '#core/conversations.ts';
import { callbackUrl, pushToUsers } from './connections.ts';
import { advancePosition, ensureConversation, getMember, getMessage, partnersOf, storeMessage } from './messages.ts';
import { blockPair, blockRelations } from './moderation.ts';
import { users } from './users.ts';

export const messagingDeps: MessagingDeps = {
  getUser: (userId) => users.get(userId),
  blockPair,
  blockRelations,
  ensureConversation,
  getMember,
  getMessage,
  storeMessage,
  advancePosition,
  partnersOf,
  push: (userIds, frame, except) => pushToUsers(callbackUrl({}), userIds, frame, except),
  retentionSeconds: config.messages.retentionSeconds,
  now: () => Date.now(),
  limitNewConversation: (userId) => enforce(counters, config.rateLimits, 'conversationUser', userId, Date.now()),
};
