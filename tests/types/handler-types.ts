// Compile-time checks of the typed handlers: `npm test` type-checks this file (tsc --noEmit), and
// every `@ts-expect-error` below must still be an error, or tsc fails ("unused directive"). So a
// regression that loosened the handler types (to `any`, say) breaks the build. Never executed.
import * as z from 'zod/mini';
import { httpContract, wsContract } from '../../contract/route.ts';
import { httpHandler } from '../../functions/middleware/http-handler.ts';
import { wsHandler } from '../../functions/middleware/ws-handler.ts';
import { httpGate, socketGate } from '../../functions/wiring/auth.ts';

const item = z.object({ id: z.string(), kind: z.enum(['a', 'b']) });
const contract = httpContract({
  id: 'TypeProbe',
  method: 'POST',
  path: '/probe',
  access: 'user',
  summary: 'type probe',
  input: { body: z.strictObject({ name: z.string() }) },
  output: { 200: item, 202: z.object({ queued: z.literal(true) }), 204: null },
});

export const ok = [
  httpHandler(contract, httpGate).handle(async ({ body, auth }) => ({ body: { id: `${body.name}:${auth.userId}`, kind: 'a' } })),
  httpHandler(contract, httpGate).handle(async () => ({ statusCode: 202, body: { queued: true } })),
  httpHandler(contract, httpGate).handle(async () => ({ statusCode: 204 })),
];

export const refused = [
  // @ts-expect-error a status the contract does not declare
  httpHandler(contract, httpGate).handle(async () => ({ statusCode: 201, body: { id: 'x', kind: 'a' } })),
  // @ts-expect-error a body without a required field
  httpHandler(contract, httpGate).handle(async () => ({ body: { kind: 'a' } })),
  // @ts-expect-error a value outside the enum
  httpHandler(contract, httpGate).handle(async () => ({ body: { id: 'x', kind: 'c' } })),
  // @ts-expect-error the 202 body under the default 200
  httpHandler(contract, httpGate).handle(async () => ({ body: { queued: true } })),
  // @ts-expect-error a body on the 204 that has none
  httpHandler(contract, httpGate).handle(async () => ({ statusCode: 204, body: { id: 'x', kind: 'a' } })),
  // @ts-expect-error a signed-in contract without its gate
  httpHandler(contract),
  // @ts-expect-error reading a field the body schema does not have
  httpHandler(contract, httpGate).handle(async ({ body }) => ({ body: { id: body.missing, kind: 'a' } })),
];

const frames = wsContract({
  id: 'FrameProbe',
  routeKey: 'probe',
  access: 'user',
  summary: 'frame probe',
  input: z.strictObject({ action: z.literal('probe') }),
  output: { ack: z.object({ type: z.literal('ack'), n: z.int() }) },
});

export const ws = [
  wsHandler(frames, socketGate).handle(async ({ reply }) => {
    await reply({ type: 'ack', n: 1 });
    // @ts-expect-error a frame type the contract does not declare
    await reply({ type: 'pong', n: 1 });
    // @ts-expect-error a declared frame with a wrong field
    await reply({ type: 'ack', n: 'one' });
  }),
];
