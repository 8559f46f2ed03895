// PATCH /api/users/me: changes the display name.
import { publicUser } from '#core/identity.ts';
import { users } from '#adapters/users.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { updateMe as contract } from '#contract/users/update-me.ts';

export const handler = httpHandler(contract).handle(async ({ auth, body }) => ({
  body: { user: publicUser(await users.update(auth.userId, { displayName: body.displayName })) },
}));
