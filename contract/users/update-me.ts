// PATCH /api/users/me
import * as z from 'zod/mini';
import { displayName, me } from '../auth/schemas.ts';
import { httpContract } from '../route.ts';
import { atMostOneProof, proofFields } from './schemas.ts';

/**
 * At least one of displayName and discoverable; `discoverable`: may others find you by your exact
 * email or phone (off by default). Turning it on takes a fresh proof (password, or a `reauth` code
 * for a passwordless account); a proof sent along is always checked.
 */
export const updateMeBody = z.strictObject({ displayName: z.optional(displayName), discoverable: z.optional(z.boolean()), ...proofFields }).check(
  z.refine((v) => v.displayName !== undefined || v.discoverable !== undefined, { message: 'Give displayName, discoverable or both', path: ['displayName'] }),
  atMostOneProof,
);

export const updateMe = httpContract({
  id: 'UpdateMe',
  method: 'PATCH',
  path: '/api/users/me',
  access: 'user',
  summary: 'Changes the display name, and whether others can find you by your exact email or phone (discoverable, off by default; turning it on takes a proof)',
  input: { body: updateMeBody },
  output: { 200: me },
});
