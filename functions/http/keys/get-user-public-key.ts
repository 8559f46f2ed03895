// GET /api/users/{userId}/public-key: any signed-in user may fetch anyone's public keys. An unknown
// user and a user without keys answer the same 404, and only the keys table is read.
import { NotFound } from '#core/errors.ts';
import { getCurrentKey } from '#adapters/keys-store.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { getUserPublicKey as contract } from '#contract/keys/get-user-public-key.ts';

export const handler = httpHandler(contract).handle(async ({ path }) => {
  const key = await getCurrentKey(path.userId);
  if (!key) throw new NotFound('This user has no published keys', 'key_not_found');
  return { body: key };
});
