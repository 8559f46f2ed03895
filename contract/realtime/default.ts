// $default
import * as z from 'zod/mini';
import { wsContract } from '../route.ts';
import { errorFrame } from './frames.ts';

/** The actions the WebSocket API routes; anything else lands in $default. */
export const wsActions = ['ping', 'sendMessage', 'typing', 'markRead', 'delivered'] as const;

export const wsDefault = wsContract({
  id: 'WsDefault',
  routeKey: '$default',
  access: 'public',
  summary: 'Answers {"action":"ping"} with {"type":"pong"}; any other frame gets an error frame',
  /** $default takes any frame with an action; only ping is answered, the rest get an error frame. */
  input: z.looseObject({ action: z.string().check(z.minLength(1), z.maxLength(64)) }),
  output: { pong: z.object({ type: z.literal('pong'), time: z.iso.datetime() }), error: errorFrame },
});
