// POST /api/devices/links/{linkId}/claim
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { claimedLink, linkId, linkSecret } from './schemas.ts';

export const claimDeviceLink = httpContract({
  id: 'ClaimDeviceLink',
  method: 'POST',
  path: '/api/devices/links/{linkId}/claim',
  access: 'public',
  summary:
    'The new device claims an approved link with its secret, once: a session of a new device and the relayed box. Unknown, unapproved, expired, used or wrong-secret links all get the same 404; an approved link whose account has reached DEVICES_MAX meanwhile is 409 device_limit and stays claimable',
  input: { path: z.strictObject({ linkId }), body: z.strictObject({ linkSecret }) },
  output: { 200: claimedLink },
});
