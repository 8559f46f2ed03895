// What every queue worker does first with a message: its body against the message's contract schema.
import * as z from 'zod/mini';

/** A queued message's body against its contract schema; a body that is not JSON fails the same way. */
export function parseQueued<S extends z.ZodMiniType>(schema: S, body: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  return z.safeParse(schema, parsed);
}
