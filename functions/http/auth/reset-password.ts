// POST /api/auth/password/reset: a "reset" OTP code and a new password; 204, and every session ends.
import { identifierOf, resetPassword } from '#core/identity.ts';
import { clearRefreshCookie } from '#core/session-response.ts';
import { identityWithSockets } from '#wiring/identity.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { resetPassword as contract } from '#contract/auth/reset-password.ts';

export const handler = httpHandler(contract).handle(async ({ body, sourceIp }) => {
  await resetPassword(identityWithSockets(), { identifier: identifierOf(body), code: body.code, newPassword: body.newPassword }, sourceIp);
  return { statusCode: 204, cookies: [clearRefreshCookie] };
});
