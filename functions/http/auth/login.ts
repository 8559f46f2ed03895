// POST /api/auth/login: 200 with tokens, or 202 when OTP is mandatory at login and no code was sent.
import { login } from '#core/identity.ts';
import { tokenResult } from '#core/session-response.ts';
import { identityDeps } from '#adapters/identity.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { login as contract } from '#contract/auth/login.ts';

export const handler = httpHandler(contract).handle(async ({ body, sourceIp }) => {
  const identifier = body.email !== undefined ? { channel: 'email' as const, destination: body.email } : { channel: 'sms' as const, destination: body.phone! };
  const result = await login(identityDeps, { identifier, password: body.password, code: body.code }, sourceIp);
  if (result.kind === 'otp_required') return { statusCode: 202, body: { otpRequired: true, ...result.otp } };
  return tokenResult(result.tokens, 200);
});
