// POST /api/admin/users/{userId}/ban: at once; sessions revoked and sockets closed.
import { adminBanUser as contract } from '#contract/admin/ban-user.ts';
import { sanction } from '#core/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { staffGate } from '#wiring/auth.ts';
import { sanctions } from '#wiring/moderation.ts';

export const handler = httpHandler(contract, staffGate).handle(async ({ auth, path, body }) => ({
  body: await sanction(sanctions(), auth, path.userId, 'ban', body),
}));
