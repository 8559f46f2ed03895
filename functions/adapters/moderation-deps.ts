// Wires moderation logic to its adapters, once per container.
import { config } from '#core/config.ts';
import type { ModerationDeps } from '#core/moderation.ts';
import { closeUserConnections } from './connections.ts';
import { counters } from './ephemeral.ts';
import { getMessage } from './messages.ts';
import { appendAudit, block, distinctReporters, getReport, putReport, updateReport } from './moderation.ts';
import { sessions } from './sessions.ts';
import { users } from './users.ts';

export const moderationDeps: ModerationDeps = {
  config,
  now: () => Date.now(),
  getUser: (id) => users.get(id),
  updateUser: (id, changes, opts) => users.update(id, changes, opts),
  messageInConversation: async (conversationId, messageId, viewerId) => {
    const m = await getMessage(conversationId, messageId);
    return Boolean(m && m.hiddenFrom !== viewerId);
  },
  block,
  putReport,
  getReport,
  updateReport,
  distinctReporters,
  appendAudit,
  counters,
  async cutSessions(userId, reason, now) {
    await sessions.revokeAllForUser(userId, reason, now);
    await closeUserConnections(userId);
  },
};
