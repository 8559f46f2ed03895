// PATCH /api/devices/{deviceId}
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { device, deviceId, deviceName } from './schemas.ts';

export const renameDevice = httpContract({
  id: 'RenameDevice',
  method: 'PATCH',
  path: '/api/devices/{deviceId}',
  access: 'user',
  summary: "Renames one of the caller's devices",
  input: { path: z.strictObject({ deviceId }), body: z.strictObject({ name: deviceName }) },
  output: { 200: device },
});
