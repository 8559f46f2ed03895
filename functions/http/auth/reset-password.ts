// POST /api/auth/password/reset: a "reset" OTP code and a new password; 204, and every session ends.
import { resetPassword } from '#core/identity.ts';
import { clearRefreshCookie } from '#core/session-response.ts';
import { identityDeps } from '#adapters/identity.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { resetPassword as contract } from '#contract/auth/reset-password.ts';

export const handler = httpHandler(contract).handle(async ({ body, sourceIp }) => {
  const identifier = body.email !== undefined ? { channel: 'email' as const, destination: body.email } : { channel: 'sms' as const, destination: body.phone! };
  await resetPassword(identityDeps, { identifier, code: body.code, newPassword: body.newPassword }, sourceIp);
  return { statusCode: 204, cookies: [clearRefreshCookie] };
});
