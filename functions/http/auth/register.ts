// POST /api/auth/register: 201 with tokens (and the refresh cookie).
import { identifierOf, register } from '#core/identity.ts';
import { tokenResult } from '#core/session-response.ts';
import { identityForSignIn } from '#wiring/identity.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { register as contract } from '#contract/auth/register.ts';

export const handler = httpHandler(contract).handle(async ({ body, sourceIp }) => {
  const tokens = await register(
    identityForSignIn(),
    { identifier: identifierOf(body), displayName: body.displayName, password: body.password, code: body.code, deviceName: body.deviceName },
    sourceIp,
  );
  return tokenResult(tokens, 201);
});
