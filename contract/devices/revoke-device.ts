// DELETE /api/devices/{deviceId}
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { oneProof, proofFields } from '../users/schemas.ts';
import { deviceId } from './schemas.ts';

/**
 * A fresh proof, exactly one of: the password, or (accounts without one) a `reauth` code. Optional
 * here only so that a bodiless DELETE gets the 400 naming the missing field (from the use case)
 * rather than a 415, as DELETE /api/users/me does; nothing is revoked without a proof.
 */
export const revokeDeviceBody = z.optional(z.strictObject(proofFields).check(oneProof));

export const revokeDevice = httpContract({
  id: 'RevokeDevice',
  method: 'DELETE',
  path: '/api/devices/{deviceId}',
  access: 'user',
  summary:
    'Signs one device out (password, or a "reauth" code if the account has none): its tokens answer 401 at once, its sockets get a device_revoked error frame and close',
  input: { path: z.strictObject({ deviceId }), body: revokeDeviceBody },
  output: { 204: null },
});
