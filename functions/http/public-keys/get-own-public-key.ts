// GET /api/users/public-key: the caller's current key set, version and fingerprint.
import { getOwnPublicKey as contract } from '#contract/public-keys/get-own-public-key.ts';
import { currentKeys } from '#core/key-lookup.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { keyReads } from '#wiring/public-keys.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth }) => ({ body: await currentKeys(keyReads(), auth.userId, true) }));
