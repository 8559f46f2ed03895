// WebSocket sessions: single-use tickets (tokens never go in URLs), the $connect check that the
// ticket's session is alive, recording connections and announcing presence to partners.
import type { Config } from './config.ts';
import { announcePresence } from './conversations.ts';
import { Unauthorized } from './errors.ts';
import { liveSession, type AuthContext } from './authn.ts';
import type { Clock, ConnectionsPort, ConversationsPort, BlocksPort, SessionsPort, TicketsPort, UsersPort } from './ports.ts';

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
  conversations: Pick<ConversationsPort, 'partnersOf'>;
  blocks: Pick<BlocksPort, 'blockRelations'>;
  connections: ConnectionsPort;
  /** Presence goes to at most this many partners, the latest first (config.realtime.presenceFanoutMax). */
  presenceFanoutMax: number;
}

/**
 * Records the connection (GSI by user for fan-out) and, for the user's first open connection, tells
 * partners they are online. A logout between the authorizer's check and the row would leave a live
 * row for a dead session: the session is checked again once the row is visible to logout's cleanup.
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
  const open = await deps.connections.openConnections(userId);
  if (open.length <= 1) await announcePresence(deps, userId, 'online');
}

/** Forgets the connection (awaited); the user's last one records lastSeen and announces offline. */
export async function disconnect(deps: PresenceDeps, connectionId: string, userId: string | undefined): Promise<void> {
  await deps.connections.remove(connectionId);
  if (!userId || (await deps.connections.openConnections(userId)).length > 0) return;
  const lastSeen = new Date(deps.clock.now()).toISOString();
  await deps.users.update(userId, { lastSeenAt: lastSeen }).catch(() => undefined); // the account may be gone
  await announcePresence(deps, userId, 'offline', lastSeen);
}
