// DELETE /api/users/me: the account, its sessions and its public keys are gone; tokens die at once.
import { deleteAccount } from '#core/identity.ts';
import { clearRefreshCookie } from '#core/session-response.ts';
import { identityDeps } from '#adapters/identity.ts';
import { deleteAllKeys } from '#adapters/keys-store.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { deleteMe as contract } from '#contract/users/delete-me.ts';

export const handler = httpHandler(contract).handle(async ({ auth }) => {
  await deleteAccount(identityDeps, auth, { deleteKeys: deleteAllKeys });
  return { statusCode: 204, cookies: [clearRefreshCookie] };
});
