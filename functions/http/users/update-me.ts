// PATCH /api/users/me: changes the display name (names that pass for staff are for staff only) and
// whether others can find the caller by exact email or phone.
import { updateMe as contract } from '#contract/users/update-me.ts';
import { updateSelf } from '#core/users.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate, users } from '#wiring/auth.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, body }) => ({
  body: { user: await updateSelf({ users: users() }, auth, body) },
}));
