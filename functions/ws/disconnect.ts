// $disconnect: forgets the connection (awaited, so fan-out never finds it again); when it was the
// user's last one, records lastSeen and tells partners they went offline.
import { announcePresence } from '#core/conversations.ts';
import { connectionsOf, deleteConnection } from '#adapters/connections.ts';
import { messagingDeps } from '#adapters/messaging.ts';
import { users } from '#adapters/users.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { wsDisconnect as contract } from '#contract/realtime/disconnect.ts';

export const handler = wsHandler(contract).handle(async ({ connectionId, userId }) => {
  await deleteConnection(connectionId);
  if (!userId || (await connectionsOf(userId)).length > 0) return;
  const lastSeen = new Date().toISOString();
  await users.update(userId, { lastSeenAt: lastSeen }).catch(() => undefined); // the account may be gone
  await announcePresence(messagingDeps, userId, 'offline', lastSeen);
});
