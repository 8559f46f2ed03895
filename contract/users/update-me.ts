// PATCH /api/users/me
import * as z from 'zod/mini';
import { displayName, me } from '../auth/schemas.ts';
import { httpContract } from '../route.ts';

/** At least one of them; `discoverable`: may others find you by your exact email or phone (off by default). */
export const updateMeBody = z
  .strictObject({ displayName: z.optional(displayName), discoverable: z.optional(z.boolean()) })
  .check(
    z.refine((v) => v.displayName !== undefined || v.discoverable !== undefined, { message: 'Give displayName, discoverable or both', path: ['displayName'] }),
  );

export const updateMe = httpContract({
  id: 'UpdateMe',
  method: 'PATCH',
  path: '/api/users/me',
  access: 'user',
  summary: 'Changes the display name, and whether others can find you by your exact email or phone (discoverable, off by default)',
  input: { body: updateMeBody },
  output: { 200: me },
});
