// $connect: the ticket authorizer has named the user; record the connection (GSI by user for
// fan-out) and, for the user's first open connection, tell partners they are online.
import { announcePresence } from '#core/conversations.ts';
import { Unauthorized } from '#core/errors.ts';
import { liveSession } from '#core/authn.ts';
import { connectionsOf, deleteConnection, saveConnection } from '#adapters/connections.ts';
import { authDeps } from '#adapters/identity.ts';
import { messagingDeps } from '#adapters/messaging.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { wsConnect as contract } from '#contract/realtime/connect.ts';

export const handler = wsHandler(contract).handle(async ({ connectionId, event, userId, sessionId }) => {
  if (!sessionId) throw new Unauthorized('Connect with a ticket from POST /api/ws/ticket', 'not_signed_in');
  await saveConnection({ connectionId, userId, sessionId, connectedAt: new Date(event.requestContext.connectedAt).toISOString() });
  // A logout between the authorizer's check and this row would otherwise leave a live row for a
  // dead session: check again now that the row is visible to logout's cleanup.
  try {
    await liveSession(authDeps, userId, sessionId);
  } catch (error) {
    await deleteConnection(connectionId);
    throw error;
  }
  const open = await connectionsOf(userId);
  if (open.length <= 1) await announcePresence(messagingDeps, userId, 'online');
});
