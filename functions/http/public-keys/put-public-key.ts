// PUT /api/users/public-key: publishes the caller's identity key, box key and signature. The server
// verifies and versions them; on a new version every online conversation partner (not across a block) gets keyChanged.
import { putPublicKey as contract } from '#contract/public-keys/put-public-key.ts';
import { publishAndAnnounce } from '#core/public-keys.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { keyPublishing } from '#wiring/public-keys.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, body }) => ({
  body: await publishAndAnnounce(keyPublishing(), auth.userId, body),
}));
