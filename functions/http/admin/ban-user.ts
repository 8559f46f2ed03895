// POST /api/admin/users/{userId}/ban: at once; sessions revoked and sockets closed.
import { sanction } from '#core/moderation.ts';
import { moderationDeps } from '#adapters/moderation-deps.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { adminBanUser as contract } from '#contract/admin/ban-user.ts';

export const handler = httpHandler(contract).handle(async ({ auth, path, body }) => ({
  body: await sanction(moderationDeps, auth, path.userId, 'ban', body),
}));
