// PUT /api/users/public-key: publishes the caller's identity key, box key and signature. The server
// verifies and versions them; on a new version every online conversation partner (not across a block) gets keyChanged.
import { keyChangedFrame, publishKey } from '#core/key-directory.ts';
import { reachablePartners } from '#core/conversations.ts';
import { keyStore } from '#adapters/keys-store.ts';
import { messagingDeps } from '#adapters/messaging.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { logger } from '#middleware/logger.ts';
import { putPublicKey as contract } from '#contract/keys/put-public-key.ts';

export const handler = httpHandler(contract).handle(async ({ auth, body }) => {
  const result = await publishKey(keyStore, auth.userId, body);
  if (result.changed) {
    // The key is stored; a failed notification must not turn that into an error the client retries.
    // Apps also compare versions when they next fetch the key, so a missed event is caught up.
    try {
      // never across a block: a blocked user learns nothing about the blocker's keys
      const partners = await reachablePartners(messagingDeps, auth.userId);
      if (partners.length) await messagingDeps.push(partners, keyChangedFrame(result.key, result.identityChanged));
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      logger.warn('keyChanged fan-out failed', { route: contract.id, errorName: e.name, errorMessage: e.message });
    }
  }
  return { body: result.key };
});
