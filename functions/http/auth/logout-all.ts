// POST /api/auth/logout-all: every session of the account ends at once.
import { logoutAll } from '#core/identity.ts';
import { clearRefreshCookie } from '#core/session-response.ts';
import { identityWithSockets } from '#wiring/identity.ts';
import { httpGate } from '#wiring/auth.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { logoutAll as contract } from '#contract/auth/logout-all.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth }) => {
  await logoutAll(identityWithSockets(), auth);
  return { statusCode: 204, cookies: [clearRefreshCookie] };
});
