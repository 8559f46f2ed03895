// GET /api/users/me: the signed-in user, as the token check loaded it.
import { publicUser } from '#core/identity.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { routes } from '#lib/routes.ts';

export const handler = httpHandler(routes.getMe, async ({ auth }) => ({ body: { user: publicUser(auth.user) } }));
