// POST /api/admin/users/{userId}/suspend: at once, for durationHours; ends by itself.
import { sanction } from '#core/moderation.ts';
import { moderationDeps } from '#adapters/moderation-deps.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { routes } from '#lib/routes.ts';

export const handler = httpHandler(routes.adminSuspendUser, async ({ auth, path, body }) => ({
  body: await sanction(moderationDeps, auth, path.userId, 'suspend', body),
}));
