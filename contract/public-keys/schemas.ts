// The public key set of a user as the directory serves it.
import * as z from 'zod/mini';

export const publicKeySet = z.object({
  userId: z.string(),
  identityKey: z.string(),
  publicKey: z.string(),
  signature: z.string(),
  version: z.int().check(z.positive()),
  fingerprint: z.string(),
  updatedAt: z.string(),
  identityChangedAt: z.optional(z.string()),
});
export type PublicKeySet = z.infer<typeof publicKeySet>;
