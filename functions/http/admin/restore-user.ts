// POST /api/admin/users/{userId}/restore: lifts a suspension, ban or auto-restriction.
import { restore } from '#core/moderation.ts';
import { moderationDeps } from '#adapters/moderation-deps.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { routes } from '#lib/routes.ts';

export const handler = httpHandler(routes.adminRestoreUser, async ({ auth, path, body }) => ({
  body: await restore(moderationDeps, auth, path.userId, body.note),
}));
