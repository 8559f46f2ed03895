// DELETE /api/users/me: the account, its sessions and its public keys are gone; tokens die at once.
import { deleteMe as contract } from '#contract/users/delete-me.ts';
import { deleteAccount } from '#core/identity.ts';
import { clearRefreshCookie } from '#core/session-response.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { accountDeletion } from '#wiring/identity.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth }) => {
  await deleteAccount(accountDeletion(), auth);
  return { statusCode: 204, cookies: [clearRefreshCookie] };
});
