// DELETE /api/users/me
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { oneProof, proofFields } from './schemas.ts';

/**
 * A fresh proof, exactly one of: the password, or (accounts without one) a `reauth` code. Optional
 * here only so that a bodiless DELETE gets the same 400 naming the missing field (from the use
 * case) rather than a 415; no deletion happens without a proof.
 */
export const deleteMeBody = z.optional(z.strictObject(proofFields).check(oneProof));

export const deleteMe = httpContract({
  id: 'DeleteMe',
  method: 'DELETE',
  path: '/api/users/me',
  access: 'user',
  summary: 'Deletes the account, its sessions and public keys; takes the password, or a "reauth" code if it has none',
  input: { body: deleteMeBody },
  output: { 204: null },
});
