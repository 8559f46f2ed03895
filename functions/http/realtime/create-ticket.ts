// POST /api/ws/ticket: a single-use ticket for ?ticket=... on the WebSocket URL, valid 30 s.
import { config } from '#core/config.ts';
import { createTicket } from '#adapters/tickets.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { createWsTicket as contract } from '#contract/realtime/create-ticket.ts';

export const handler = httpHandler(contract).handle(async ({ auth }) => ({
  statusCode: 201,
  body: { ticket: await createTicket(auth.userId, auth.sessionId, config.realtime.ticketTtlSeconds), expiresIn: config.realtime.ticketTtlSeconds },
}));
