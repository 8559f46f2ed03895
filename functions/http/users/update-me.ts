// PATCH /api/users/me: changes the display name.
import { publicUser } from '#core/identity.ts';
import { users } from '#adapters/users.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { routes } from '#lib/routes.ts';

export const handler = httpHandler(routes.updateMe, async ({ auth, body }) => ({
  body: { user: publicUser(await users.update(auth.userId, { displayName: body.displayName })) },
}));
