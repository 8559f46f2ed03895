// Shapes shared by the users routes: the fresh proof that sensitive changes to one's own account
// take (deletion, turning discovery on), so that a stolen access token alone cannot make them.
import * as z from 'zod/mini';
import { anyPassword, code } from '../auth/schemas.ts';

/** The account's password, or for a passwordless account a `reauth` code from POST /api/auth/otp/request. */
export const proofFields = {
  password: z.optional(anyPassword),
  code: z.optional(code),
};

type Proof = { password?: string | undefined; code?: string | undefined };

/** Never both. */
export const atMostOneProof = z.refine<Proof>((v) => v.password === undefined || v.code === undefined, {
  message: 'Give a password or a code, not both',
  path: ['code'],
});

/** Exactly one. */
export const oneProof = z.refine<Proof>((v) => (v.password === undefined) !== (v.code === undefined), {
  message: 'Confirm with your password, or with a "reauth" code if the account has none',
  path: ['password'],
});
