// PATCH /api/users/me: changes the display name (names that pass for staff are for staff only) and
// whether others can find the caller by exact email or phone (turning that on takes a fresh proof).
import { updateMe as contract } from '#contract/users/update-me.ts';
import { updateProfile } from '#core/identity.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { identity } from '#wiring/identity.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, body, sourceIp }) => ({
  body: { user: await updateProfile(identity(), auth, body, sourceIp) },
}));
