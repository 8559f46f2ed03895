// GET /api/devices: the caller's signed-in devices, the calling one marked `current`.
import { listDevices as contract } from '#contract/devices/list-devices.ts';
import { listDevices } from '#core/devices.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { deviceList } from '#wiring/devices.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth }) => ({ body: { devices: await listDevices(deviceList(), auth) } }));
