// $disconnect: forgets the connection (awaited, so fan-out never finds it again); when it was the
// user's last one, records lastSeen and tells partners they went offline.
import { wsDisconnect as contract } from '#contract/realtime/disconnect.ts';
import { disconnect } from '#core/realtime.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { socketGate } from '#wiring/auth.ts';
import { presence } from '#wiring/realtime.ts';

export const handler = wsHandler(contract, socketGate).handle(async ({ connectionId, userId, endpoint }) => {
  await disconnect(presence(endpoint), connectionId, userId);
});
