// Composition root of typing and receipts in groups (apart from groups.ts so that these routes bundle
// no membership or send store): the members and the caller's copies, block relations, read positions
// and the members' socket sets.
import { groupSignals } from '#adapters/dynamodb/group-signals.ts';
import type { GroupSignalDeps } from '#core/group-signals.ts';
import type { GroupReportsPort, GroupSignalsPort } from '#core/ports.ts';
import { clock, db } from './platform.ts';
import { connections } from './realtime.ts';
import { blocks, messageStore } from './stores.ts';

let port: (GroupSignalsPort & GroupReportsPort) | undefined;

/** The group reads of typing, receipts and reports. */
export function groupSignalStore(): GroupSignalsPort & GroupReportsPort {
  return (port ??= groupSignals(db(), clock()));
}

/** `eventEndpoint`: the WebSocket route's own @connections URL, used when the stage sets none. */
export function groupSignaling(eventEndpoint?: string): GroupSignalDeps {
  return { signals: groupSignalStore(), blocks: blocks(), conversations: messageStore(), connections: connections(eventEndpoint) };
}
