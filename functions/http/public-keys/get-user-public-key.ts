// GET /api/users/{userId}/public-key: another user's current key set, version and fingerprint.
import { getUserPublicKey as contract } from '#contract/public-keys/get-user-public-key.ts';
import { currentKeys } from '#core/key-lookup.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { keyReads } from '#wiring/public-keys.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ path }) => ({ body: await currentKeys(keyReads(), path.userId, false) }));
