// GET /api/users/public-key: the caller's current keys, version and fingerprint.
import { NotFound } from '#core/errors.ts';
import { getCurrentKey } from '#adapters/keys-store.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { getOwnPublicKey as contract } from '#contract/keys/get-own-public-key.ts';

export const handler = httpHandler(contract).handle(async ({ auth }) => {
  const key = await getCurrentKey(auth.userId);
  if (!key) throw new NotFound('You have not published keys yet', 'key_not_found');
  return { body: key };
});
