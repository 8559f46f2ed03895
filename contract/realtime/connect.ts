// $connect
import * as z from 'zod/mini';
import { wsContract } from '../route.ts';

export const wsConnect = wsContract({
  id: 'WsConnect',
  routeKey: '$connect',
  access: 'user',
  summary: 'Opens a connection with a single-use ticket (?ticket=...), records it and announces presence',
  input: z.strictObject({ ticket: z.string().check(z.minLength(1), z.maxLength(128)) }),
  output: {},
});
