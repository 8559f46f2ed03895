// POST /api/devices/links/{linkId}/claim: the new device takes its session and the relayed box, once.
import { claimDeviceLink as contract } from '#contract/devices/claim-link.ts';
import { claimLink } from '#core/devices.ts';
import { tokenResult } from '#core/session-response.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { linkClaims } from '#wiring/devices.ts';

export const handler = httpHandler(contract).handle(async ({ path, body, sourceIp }) =>
  tokenResult(await claimLink(linkClaims(), path.linkId, body.linkSecret, sourceIp), 200),
);
