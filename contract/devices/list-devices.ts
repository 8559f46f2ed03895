// GET /api/devices
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { device } from './schemas.ts';

export const listDevices = httpContract({
  id: 'ListDevices',
  method: 'GET',
  path: '/api/devices',
  access: 'user',
  summary: "The caller's devices with a live session, oldest first; `current` marks the one asking",
  input: {},
  output: { 200: z.object({ devices: z.array(device) }) },
});
