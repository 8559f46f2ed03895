// $connect: the ticket authorizer has named the user; record the connection (GSI by user for
// fan-out) and, for the user's first open connection, tell partners they are online.
import { announcePresence } from '#core/conversations.ts';
import { connectionsOf, saveConnection } from '#adapters/connections.ts';
import { messagingDeps } from '#adapters/messaging.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { routes } from '#lib/routes.ts';

export const handler = wsHandler(routes.wsConnect, async ({ connectionId, event, userId, sessionId }) => {
  await saveConnection({ connectionId, userId, ...(sessionId ? { sessionId } : {}), connectedAt: new Date(event.requestContext.connectedAt).toISOString() });
  const open = await connectionsOf(userId);
  if (open.length <= 1) await announcePresence(messagingDeps, userId, 'online');
});
