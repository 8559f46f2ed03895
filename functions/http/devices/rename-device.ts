// PATCH /api/devices/{deviceId}: renames one of the caller's devices.
import { renameDevice as contract } from '#contract/devices/rename-device.ts';
import { renameDevice } from '#core/devices.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { deviceManagement } from '#wiring/devices.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, path, body }) => ({
  body: await renameDevice(deviceManagement(), auth, path.deviceId, body.name),
}));
