// $connect: the ticket authorizer has named the user; record the connection and, when the user was not
// online (nor back within the offline grace), tell partners they are.
import { wsConnect as contract } from '#contract/realtime/connect.ts';
import { connect } from '#core/realtime.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { socketGate } from '#wiring/auth.ts';
import { presence } from '#wiring/realtime.ts';

export const handler = wsHandler(contract, socketGate).handle(async ({ connectionId, event, userId, sessionId, endpoint }) => {
  await connect(presence(endpoint), { connectionId, connectedAt: event.requestContext.connectedAt }, userId, sessionId);
});
