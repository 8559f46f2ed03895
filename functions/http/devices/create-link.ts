// POST /api/devices/links: a signed-out device asks to be linked (limited per IP).
import { createDeviceLink as contract } from '#contract/devices/create-link.ts';
import { requestLink } from '#core/devices.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { linkRequests } from '#wiring/devices.ts';

export const handler = httpHandler(contract).handle(async ({ body, sourceIp }) => ({
  statusCode: 201,
  body: await requestLink(linkRequests(), body, sourceIp),
}));
