// POST /api/ws/ticket
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';

export const createWsTicket = httpContract({
  id: 'CreateWsTicket',
  method: 'POST',
  path: '/api/ws/ticket',
  access: 'user',
  userLimit: 'ticketUser',
  summary: 'A single-use WebSocket ticket valid 30 s: connect with ?ticket=... (tokens never go in URLs)',
  input: {},
  output: { 201: z.object({ ticket: z.string(), expiresIn: z.int() }) },
});
