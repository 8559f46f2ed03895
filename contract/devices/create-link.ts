// POST /api/devices/links
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { boxPublicKey, deviceName } from './schemas.ts';

export const createDeviceLink = httpContract({
  id: 'CreateDeviceLink',
  method: 'POST',
  path: '/api/devices/links',
  access: 'public',
  summary:
    'A signed-out device asks to be linked: its ephemeral X25519 public key and a name; returns a link id and a secret, single use, valid 5 minutes (per-IP limit)',
  input: { body: z.strictObject({ publicKey: boxPublicKey, deviceName }) },
  output: { 201: z.object({ linkId: z.string(), linkSecret: z.string(), expiresIn: z.int() }) },
});
