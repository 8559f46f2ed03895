// Wires identity logic to its adapters, once per container. `authDeps` is the small subset the
// per-request token check needs, so routes that only authenticate do not bundle the notifier.
import { config } from '#core/config.ts';
import type { AuthDeps } from '#core/authn.ts';
import type { IdentityDeps } from '#core/identity.ts';
import { logger } from '#middleware/logger.ts';
import { closeUserConnections } from './connections.ts';
import { challenges, counters } from './ephemeral.ts';
import { notifier } from './notifier.ts';
import { authKeys } from './secrets.ts';
import { sessions } from './sessions.ts';
import { users } from './users.ts';

export const authDeps: AuthDeps = { config, keys: () => authKeys(), users, sessions, now: () => Date.now() };

export const identityDeps: IdentityDeps = {
  ...authDeps,
  challenges,
  counters,
  notifier,
  event: (name, data) => (name === 'refresh_token_reuse' ? logger.warn : logger.info).call(logger, 'security event', { event: name, ...data }),
  endConnections: (userId, filter) => closeUserConnections(userId, filter),
};
