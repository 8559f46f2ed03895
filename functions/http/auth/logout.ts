// POST /api/auth/logout: revokes this session's family; clears the refresh cookie.
import { logout } from '#core/identity.ts';
import { clearRefreshCookie } from '#core/session-response.ts';
import { identityDeps } from '#adapters/identity.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { logout as contract } from '#contract/auth/logout.ts';

export const handler = httpHandler(contract).handle(async ({ auth }) => {
  await logout(identityDeps, auth);
  return { statusCode: 204, cookies: [clearRefreshCookie] };
});
