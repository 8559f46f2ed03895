// Composition roots of blocks, reports and moderator work, one per shape so a route bundles only
// what it uses: blocking (blocks table), reporting (reports, cited messages, blocks, a limit), the
// queue and reviews (reports), and sanctions (which also end sessions and sockets).
import type { BlockingDeps, ModerationDeps, ReportDeps, ReportingDeps, SanctionDeps } from '#core/moderation.ts';
import { limits, sessions, users } from './auth.ts';
import { metrics } from './metrics.ts';
import { clock, config } from './platform.ts';
import { groupSignalStore } from './group-signals.ts';
import { connections } from './realtime.ts';
import { blocks, conversationStore, moderationStore, reportStore } from './stores.ts';

export function blocking(): BlockingDeps {
  return { users: users(), blocks: blocks() };
}

export function moderation(): ModerationDeps {
  return { config: config(), clock: clock(), users: users(), moderation: moderationStore() };
}

/** Deciding and restoring need the report lifecycle only, not the queue's reads. */
function reports(): ReportDeps {
  return { config: config(), clock: clock(), users: users(), moderation: reportStore() };
}

export function reporting(): ReportingDeps {
  return { ...reports(), blocks: blocks(), conversations: conversationStore(), groups: groupSignalStore(), limits: limits(), metrics: metrics() };
}

export function sanctions(): SanctionDeps {
  return { ...reports(), sessions: sessions(), connections: connections() };
}

/** Lifting a sanction: users and the audit log. */
export function restoring(): ReportDeps {
  return reports();
}
