// Composition root of WebSocket connections: the connections table and the @connections API of
// this stage (WS_CALLBACK_URL; a WebSocket route may fall back to the URL its event names), and the
// presence state on the users' socket sets.
import { connectionsAdapter } from '#adapters/connections.ts';
import { socketSetsAdapter } from '#adapters/socket-sets.ts';
import { ticketsTable } from '#adapters/dynamodb/ephemeral-table.ts';
import { loadPresenceConfig, type Config } from '#core/config.ts';
import type { ConnectionsPort, SocketSetsPort, TicketsPort } from '#core/ports.ts';
import type { AuthorizerDeps, OfflineWorkerDeps, PresenceDeps } from '#core/realtime.ts';
import { sessions, users } from './auth.ts';
import { blocks, partners } from './stores.ts';
import { clock, config, db } from './platform.ts';

const byEndpoint = new Map<string, ConnectionsPort>();
const setsByEndpoint = new Map<string, SocketSetsPort>();
let ticketsPort: TicketsPort | undefined;
let groupsMax: number | undefined;

/** PRESENCE_GROUPS_MAX, read once (loadPresenceConfig: only the presence functions carry it). */
function presenceGroupsMax(): number {
  return (groupsMax ??= loadPresenceConfig(process.env).groupsMax);
}

export function connections(eventEndpoint?: string): ConnectionsPort {
  const endpoint = config().wsCallbackUrl ?? eventEndpoint;
  if (!endpoint) throw new Error('WS_CALLBACK_URL is not set: this function has no @connections endpoint');
  let port = byEndpoint.get(endpoint);
  if (!port) byEndpoint.set(endpoint, (port = connectionsAdapter(db(), clock(), endpoint, config().region)));
  return port;
}

/** Presence state on the users' socket sets ($connect, $disconnect and the presence worker). */
export function socketSets(eventEndpoint?: string): SocketSetsPort {
  const endpoint = config().wsCallbackUrl ?? eventEndpoint;
  if (!endpoint) throw new Error('WS_CALLBACK_URL is not set: this function has no @connections endpoint');
  let port = setsByEndpoint.get(endpoint);
  if (!port) setsByEndpoint.set(endpoint, (port = socketSetsAdapter(db(), clock(), endpoint, config().region)));
  return port;
}

export function tickets(): TicketsPort {
  return (ticketsPort ??= ticketsTable(db(), clock()));
}

/** Issuing tickets: the tickets store and their lifetime. */
export function ticketing(): { tickets: TicketsPort; config: Config } {
  return { tickets: tickets(), config: config() };
}

export function authorizer(): AuthorizerDeps {
  return { tickets: tickets(), users: users(), sessions: sessions(), clock: clock() };
}

export function presence(eventEndpoint?: string): PresenceDeps {
  return {
    users: users(),
    sessions: sessions(),
    clock: clock(),
    conversations: partners(),
    blocks: blocks(),
    connections: connections(eventEndpoint),
    socketSets: socketSets(eventEndpoint),
    presenceFanoutMax: config().realtime.presenceFanoutMax,
    presenceGroupsMax: presenceGroupsMax(),
  };
}

/** The presence queue's consumer: claims the offline, records lastSeenAt and tells partners. */
export function offlineWorker(): OfflineWorkerDeps {
  return {
    users: users(),
    conversations: partners(),
    blocks: blocks(),
    connections: connections(),
    socketSets: socketSets(),
    presenceFanoutMax: config().realtime.presenceFanoutMax,
    presenceGroupsMax: presenceGroupsMax(),
  };
}
