// Composition root of groups: membership routes (the groups table, users, blockers, pushes), group
// and group sends (their own store: the 1:1 send path bundles none of it). Group reads (history, the
// inbox) are wired with the conversation reads (conversations.ts).
import { groupSendStore } from '#adapters/dynamodb/group-send.ts';
import { groupsTable } from '#adapters/dynamodb/groups-table.ts';
import type { GroupSendDeps } from '#core/group-send.ts';
import type { GroupChangeDeps, GroupInviteDeps, GroupReadDeps, GroupViewDeps } from '#core/groups.ts';
import type { GroupSendPort, GroupsPort } from '#core/ports.ts';
import { events, users } from './auth.ts';
import { metrics } from './metrics.ts';
import { clock, config, db } from './platform.ts';
import { connections } from './realtime.ts';
import { blocks, publicKeyStore } from './stores.ts';

let groupsPort: GroupsPort | undefined;
let groupSendPort: GroupSendPort | undefined;

function groupBase(): GroupReadDeps {
  groupsPort ??= groupsTable(db(), clock(), config().messages.retentionSeconds);
  return { config: config(), clock: clock(), users: users(), groups: groupsPort };
}

/** Invitations, declining: the groups table and users. */
export const groupReading = (): GroupReadDeps => groupBase();

/** Creating and inviting: also who blocks the inviter. */
export const groupInviting = (): GroupInviteDeps => ({ ...groupBase(), blocks: blocks() });

/** Membership changes: also pushes to the members. */
export const groupChanging = (): GroupChangeDeps => ({ ...groupBase(), connections: connections() });

/** The group as a member sees it: also the members' key versions. */
export const groupViewing = (): GroupViewDeps => ({ ...groupBase(), keys: publicKeyStore() });

/** `eventEndpoint`: a WebSocket route's own @connections URL, used when the stage sets none. */
export function groupSending(eventEndpoint?: string): GroupSendDeps {
  groupSendPort ??= groupSendStore(db(), clock());
  return { config: config(), clock: clock(), connections: connections(eventEndpoint), events, metrics: metrics(), groupSend: groupSendPort };
}
