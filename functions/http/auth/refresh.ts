// POST /api/auth/refresh: rotates the refresh token from the body or the cookie.
import { Unauthorized } from '#core/errors.ts';
import { refresh } from '#core/identity.ts';
import { readCookie, REFRESH_COOKIE, tokenResult } from '#core/session-response.ts';
import { identityWithSockets } from '#wiring/identity.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { refresh as contract } from '#contract/auth/refresh.ts';

export const handler = httpHandler(contract).handle(async ({ body, event, sourceIp }) => {
  const token = body?.refreshToken ?? readCookie(event.cookies, REFRESH_COOKIE);
  if (!token) throw new Unauthorized('Send { "refreshToken" } or the refresh cookie', 'missing_refresh_token');
  return tokenResult(await refresh(identityWithSockets(), token, sourceIp), 200);
});
