// PATCH /api/users/me: changes the display name (names that pass for staff are for staff only).
import { updateMe as contract } from '#contract/users/update-me.ts';
import { renameSelf } from '#core/users.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate, users } from '#wiring/auth.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, body }) => ({
  body: { user: await renameSelf({ users: users() }, auth, body.displayName) },
}));
