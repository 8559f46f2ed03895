// POST /api/auth/password: new password; every other session is revoked, this one stays.
import { changePassword } from '#core/identity.ts';
import { identityDeps } from '#adapters/identity.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { routes } from '#lib/routes.ts';

export const handler = httpHandler(routes.changePassword, async ({ auth, body, sourceIp }) => ({
  body: { user: await changePassword(identityDeps, auth, body, sourceIp) },
}));
