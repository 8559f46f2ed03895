// DELETE /api/users/me: with a fresh proof (password, or a `reauth` code), the account, its sessions
// and its public keys are gone; tokens die at once.
import { deleteMe as contract } from '#contract/users/delete-me.ts';
import { deleteAccount } from '#core/identity.ts';
import { clearRefreshCookie } from '#core/session-response.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { accountDeletion } from '#wiring/identity.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, body, sourceIp }) => {
  await deleteAccount(accountDeletion(), auth, body ?? {}, sourceIp);
  return { statusCode: 204, cookies: [clearRefreshCookie] };
});
