// $disconnect: forgets the connection (awaited, so a later fan-out never finds it).
import { deleteConnection } from '#adapters/connections.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { routes } from '#lib/routes.ts';

export const handler = wsHandler(routes.wsDisconnect, async ({ connectionId }) => {
  await deleteConnection(connectionId);
});
