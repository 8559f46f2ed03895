// $disconnect: forgets the connection (awaited, so fan-out never finds it again) and prunes ids of
// the user's that @connections no longer knows; when none is left, the user's offline goes on the
// presence queue, announced after the grace only if they have not come back.
import { wsDisconnect as contract } from '#contract/realtime/disconnect.ts';
import { disconnect } from '#core/realtime.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { socketGate } from '#wiring/auth.ts';
import { departure } from '#wiring/departure.ts';

export const handler = wsHandler(contract, socketGate).handle(async ({ connectionId, userId, endpoint }) => {
  await disconnect(departure(endpoint), connectionId, userId);
});
