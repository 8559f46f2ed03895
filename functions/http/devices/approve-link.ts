// POST /api/devices/links/{linkId}/approve: with a fresh proof, relays the account's keys boxed to the new device.
import { approveDeviceLink as contract } from '#contract/devices/approve-link.ts';
import { approveLink } from '#core/devices.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { linkApproval } from '#wiring/devices.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, path, body, sourceIp }) => {
  await approveLink(linkApproval(), auth, path.linkId, body, sourceIp);
  return { statusCode: 204 };
});
