// GET /api/users/me: the signed-in user, as the token check loaded it.
import { getMe as contract } from '#contract/users/get-me.ts';
import { publicUser } from '#core/users.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth }) => ({ body: { user: publicUser(auth.user) } }));
