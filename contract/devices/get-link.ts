// GET /api/devices/links/{linkId}
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { linkId } from './schemas.ts';

export const getDeviceLink = httpContract({
  id: 'GetDeviceLink',
  method: 'GET',
  path: '/api/devices/links/{linkId}',
  access: 'user',
  summary: 'A pending link request, for the approving device to check the public key it scanned; 404 once expired, used or approved by another account',
  input: { path: z.strictObject({ linkId }) },
  output: {
    200: z.object({ linkId: z.string(), publicKey: z.string(), deviceName: z.string(), approved: z.boolean(), expiresAt: z.string(), expiresIn: z.int() }),
  },
});
