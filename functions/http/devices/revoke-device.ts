// DELETE /api/devices/{deviceId}: with a fresh proof, signs one device out: tokens die at once, its
// sockets get a device_revoked error frame and close.
import { revokeDevice as contract } from '#contract/devices/revoke-device.ts';
import { revokeDevice } from '#core/devices.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { deviceRevocation } from '#wiring/devices.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, path, body, sourceIp }) => {
  await revokeDevice(deviceRevocation(), auth, path.deviceId, body ?? {}, sourceIp);
  return { statusCode: 204 };
});
