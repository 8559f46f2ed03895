// WebSocket sessions: single-use tickets (tokens never go in URLs), the $connect check that the
// ticket's session is alive, recording connections and announcing presence to partners: "online" at
// once, "offline" through the presence queue after a grace, so a reconnect within it tells nobody.
import type { Config } from './config.ts';
import { announcePresence } from './conversations.ts';
import { Unauthorized } from './errors.ts';
import { liveSession, type AuthContext } from './authn.ts';
import { presenceMessage } from '#contract/internal/presence-message.ts';
import type { QueuedMessage } from './otp-delivery.ts';
import { parseQueued } from './queued.ts';
import type { Clock, ConnectionsPort, BlocksPort, PresenceQueuePort, SessionsPort, SocketSetsPort, TicketsPort, UsersPort, PartnersPort } from './ports.ts';

export async function createTicket(deps: { tickets: TicketsPort; config: Config }, auth: AuthContext): Promise<{ ticket: string; expiresIn: number }> {
  const ttl = deps.config.realtime.ticketTtlSeconds;
  return { ticket: await deps.tickets.create(auth.userId, auth.sessionId, ttl), expiresIn: ttl };
}

export interface AuthorizerDeps {
  tickets: TicketsPort;
  users: UsersPort;
  sessions: SessionsPort;
  clock: Clock;
}

/** The $connect authorizer: consumes the ticket; its session must still be alive (user active, not signed out). */
export async function authorizeTicket(deps: AuthorizerDeps, ticket: string): Promise<AuthContext | undefined> {
  const owner = await deps.tickets.consume(ticket);
  return owner ? liveSession(deps, owner.userId, owner.sessionId).catch(() => undefined) : undefined;
}

export interface PresenceDeps {
  users: UsersPort;
  sessions: SessionsPort;
  clock: Clock;
  conversations: PartnersPort;
  blocks: Pick<BlocksPort, 'blockRelations'>;
  connections: ConnectionsPort;
  socketSets: Pick<SocketSetsPort, 'join'>;
  /** Presence goes to at most this many partners, the latest first (config.realtime.presenceFanoutMax). */
  presenceFanoutMax: number;
  /** And to the co-members of this many of the user's latest groups (config.realtime.presenceGroupsMax). */
  presenceGroupsMax?: number;
}

/**
 * Records the connection and, when the user was not online, tells partners they are. A logout between
 * the authorizer's check and the row would leave a live row for a dead session: the session is checked
 * again once the row is visible to logout's cleanup. Only then does the socket join its user's set,
 * in one atomic update that also claims `online`: of two sockets opening together one announces, and a
 * socket back within the offline grace (its offline still queued, `online` still true) announces nothing.
 */
export async function connect(
  deps: PresenceDeps,
  connection: { connectionId: string; connectedAt: number },
  userId: string,
  sessionId: string | undefined,
): Promise<void> {
  if (!sessionId) throw new Unauthorized('Connect with a ticket from POST /api/ws/ticket', 'not_signed_in');
  await deps.connections.save({ connectionId: connection.connectionId, userId, sessionId, connectedAt: new Date(connection.connectedAt).toISOString() });
  try {
    await liveSession(deps, userId, sessionId);
  } catch (error) {
    await deps.connections.remove(connection.connectionId);
    throw error;
  }
  const { cameOnline } = await deps.socketSets.join(userId, connection.connectionId);
  if (cameOnline) await announcePresence(deps, userId, 'online');
}

export interface DepartureDeps {
  clock: Clock;
  connections: Pick<ConnectionsPort, 'remove'>;
  socketSets: Pick<SocketSetsPort, 'leave' | 'pruneGone'>;
  presenceQueue: PresenceQueuePort;
  /** How long a user must stay without a socket before partners hear "offline" (config.realtime.presenceOfflineGraceSeconds). */
  offlineGraceSeconds: number;
}

/**
 * Forgets the connection (awaited, so fan-out never finds it again). Ids left in the user's set are
 * asked about at @connections, so one whose $disconnect was lost cannot keep the user online. When no
 * socket is left and partners were told "online", the offline goes on the presence queue with the
 * grace as its delay: the worker (settleOffline) announces it only if the user has not come back.
 */
export async function disconnect(deps: DepartureDeps, connectionId: string, userId: string | undefined): Promise<void> {
  if (!userId) return deps.connections.remove(connectionId);
  let set = await deps.socketSets.leave(userId, connectionId);
  if (set.ids.length > 0) set = await deps.socketSets.pruneGone(userId, set);
  if (set.ids.length > 0 || !set.online) return;
  const lastSeen = new Date(deps.clock.now()).toISOString();
  await deps.presenceQueue.offlineLater({ userId, epoch: set.epoch, lastSeen }, deps.offlineGraceSeconds);
}

export interface OfflineWorkerDeps {
  users: Pick<UsersPort, 'update'>;
  conversations: PartnersPort;
  blocks: Pick<BlocksPort, 'blockRelations'>;
  connections: Pick<ConnectionsPort, 'push'>;
  socketSets: Pick<SocketSetsPort, 'claimOffline'>;
  presenceFanoutMax: number;
  presenceGroupsMax?: number;
}

/** What a batch of the presence queue came to; `retry` are the message ids SQS should hand out again. */
export interface OfflineBatchResult {
  announced: number;
  /** The user came back (or another copy of the message won): nothing sent. */
  stale: number;
  malformed: number;
  /** Claimed, but the fan-out failed: not retried (a retry could not claim again), partners learn at the next event. */
  fanoutFailed: number;
  retry: string[];
}

/**
 * The presence queue's consumer. Each notice claims "offline" with a conditional write (still online,
 * the same epoch, no socket): a user who came back within the grace, and any second delivery of the
 * same message, fail the claim and send nothing. Only the winner records lastSeenAt and tells partners.
 */
export async function settleOffline(deps: OfflineWorkerDeps, batch: readonly QueuedMessage[]): Promise<OfflineBatchResult> {
  const result: OfflineBatchResult = { announced: 0, stale: 0, malformed: 0, fanoutFailed: 0, retry: [] };
  await Promise.all(
    batch.map(async (m) => {
      const notice = parseQueued(presenceMessage, m.body);
      if (!notice.success) {
        result.malformed++; // retrying cannot fix it
        return;
      }
      const { userId, epoch, lastSeen } = notice.data;
      let claimed: boolean;
      try {
        claimed = await deps.socketSets.claimOffline(userId, epoch);
      } catch {
        result.retry.push(m.id); // throttled or unreachable: nothing happened yet, so SQS may retry
        return;
      }
      if (!claimed) {
        result.stale++;
        return;
      }
      try {
        await Promise.all([
          deps.users.update(userId, { lastSeenAt: lastSeen }).catch(() => undefined), // the account may be gone
          announcePresence(deps, userId, 'offline', lastSeen),
        ]);
        result.announced++;
      } catch {
        result.fanoutFailed++;
      }
    }),
  );
  return result;
}
