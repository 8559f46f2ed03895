// POST /api/auth/otp/request: 202 with expiry and resend times, whether or not an account exists.
import { requestOtp } from '#core/identity.ts';
import { identityWithDelivery } from '#wiring/identity.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { requestOtp as contract } from '#contract/auth/request-otp.ts';

export const handler = httpHandler(contract).handle(async ({ body, sourceIp }) => ({
  statusCode: 202,
  body: await requestOtp(identityWithDelivery(), body.purpose, { channel: body.channel, destination: body.destination }, sourceIp),
}));
