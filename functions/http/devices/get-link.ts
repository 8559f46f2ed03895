// GET /api/devices/links/{linkId}: the approving device checks the public key it scanned.
import { getDeviceLink as contract } from '#contract/devices/get-link.ts';
import { viewLink } from '#core/devices.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { linkViews } from '#wiring/devices.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, path }) => ({ body: await viewLink(linkViews(), auth, path.linkId) }));
