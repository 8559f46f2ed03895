// GET /api/users/me: the signed-in user, as the token check loaded it.
import { publicUser } from '#core/identity.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { getMe as contract } from '#contract/users/get-me.ts';

export const handler = httpHandler(contract).handle(async ({ auth }) => ({ body: { user: publicUser(auth.user) } }));
