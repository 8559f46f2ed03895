// $connect: records the connection so fan-out and cleanup can find it.
import { saveConnection } from '#adapters/connections.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { routes } from '#lib/routes.ts';

export const handler = wsHandler(routes.wsConnect, async ({ connectionId, event }) => {
  await saveConnection({ connectionId, connectedAt: new Date(event.requestContext.connectedAt).toISOString() });
});
