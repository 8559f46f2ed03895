// POST /api/admin/users/{userId}/ban: at once; sessions revoked and sockets closed.
import { sanction } from '#core/moderation.ts';
import { moderationDeps } from '#adapters/moderation-deps.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { routes } from '#lib/routes.ts';

export const handler = httpHandler(routes.adminBanUser, async ({ auth, path, body }) => ({
  body: await sanction(moderationDeps, auth, path.userId, 'ban', body),
}));
