// POST /api/ws/ticket: a single-use ticket for ?ticket=... on the WebSocket URL, valid 30 s.
import { createWsTicket as contract } from '#contract/realtime/create-ticket.ts';
import { createTicket } from '#core/realtime.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { ticketing } from '#wiring/realtime.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth }) => ({
  statusCode: 201,
  body: await createTicket(ticketing(), auth),
}));
