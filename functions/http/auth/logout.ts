// POST /api/auth/logout: revokes this session's family; clears the refresh cookie.
import { logout } from '#core/identity.ts';
import { clearRefreshCookie } from '#core/session-response.ts';
import { identityWithSockets } from '#wiring/identity.ts';
import { httpGate } from '#wiring/auth.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { logout as contract } from '#contract/auth/logout.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth }) => {
  await logout(identityWithSockets(), auth);
  return { statusCode: 204, cookies: [clearRefreshCookie] };
});
