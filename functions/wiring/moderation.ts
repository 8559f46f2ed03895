// Composition root of blocks, reports and moderator work; sanctions also end sessions and sockets.
import type { ModerationDeps, SanctionDeps } from '#core/moderation.ts';
import { limits, sessions, users } from './auth.ts';
import { clock, config } from './platform.ts';
import { connections } from './realtime.ts';
import { conversationStore, moderationStore } from './stores.ts';

export function moderation(): ModerationDeps {
  return { config: config(), clock: clock(), users: users(), moderation: moderationStore(), conversations: conversationStore(), limits: limits() };
}

export function sanctions(): SanctionDeps {
  return { ...moderation(), sessions: sessions(), connections: connections() };
}
