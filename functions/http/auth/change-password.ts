// POST /api/auth/password: new password; every other session is revoked, this one stays.
import { changePassword } from '#core/identity.ts';
import { identityWithSockets } from '#wiring/identity.ts';
import { httpGate } from '#wiring/auth.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { changePassword as contract } from '#contract/auth/change-password.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, body, sourceIp }) => ({
  body: { user: await changePassword(identityWithSockets(), auth, body, sourceIp) },
}));
