// A user's last socket closed: what $disconnect puts on the presence queue (with the offline grace as
// its delivery delay) and the offline worker takes off it. Internal (never sent to clients), but a
// contract all the same: the two sides deploy separately, so the worker checks every message.
import * as z from 'zod/mini';

export const presenceMessage = z.strictObject({
  userId: z.string().check(z.minLength(1), z.maxLength(64)),
  /** The socket set's epoch when the last socket closed: a join since then makes the notice stale. */
  epoch: z.int().check(z.minimum(0)),
  /** When the last socket closed (ISO): partners' lastSeen. */
  lastSeen: z.iso.datetime(),
});
