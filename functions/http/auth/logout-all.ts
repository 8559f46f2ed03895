// POST /api/auth/logout-all: every session of the account ends at once.
import { logoutAll } from '#core/identity.ts';
import { clearRefreshCookie } from '#core/session-response.ts';
import { identityDeps } from '#adapters/identity.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { logoutAll as contract } from '#contract/auth/logout-all.ts';

export const handler = httpHandler(contract).handle(async ({ auth }) => {
  await logoutAll(identityDeps, auth);
  return { statusCode: 204, cookies: [clearRefreshCookie] };
});
