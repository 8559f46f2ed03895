// POST /api/admin/users/{userId}/suspend: at once, for durationHours; ends by itself.
import { sanction } from '#core/moderation.ts';
import { moderationDeps } from '#adapters/moderation-deps.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { adminSuspendUser as contract } from '#contract/admin/suspend-user.ts';

export const handler = httpHandler(contract).handle(async ({ auth, path, body }) => ({
  body: await sanction(moderationDeps, auth, path.userId, 'suspend', body),
}));
