// POST /api/auth/register: 201 with tokens (and the refresh cookie).
import { register } from '#core/identity.ts';
import { tokenResult } from '#core/session-response.ts';
import { identityDeps } from '#adapters/identity.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { register as contract } from '#contract/auth/register.ts';

export const handler = httpHandler(contract).handle(async ({ body, sourceIp }) => {
  const identifier = body.email !== undefined ? { channel: 'email' as const, destination: body.email } : { channel: 'sms' as const, destination: body.phone! };
  const tokens = await register(identityDeps, { identifier, displayName: body.displayName, password: body.password, code: body.code }, sourceIp);
  return tokenResult(tokens, 201);
});
