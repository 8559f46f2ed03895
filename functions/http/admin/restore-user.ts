// POST /api/admin/users/{userId}/restore: lifts a suspension, ban or auto-restriction.
import { restore } from '#core/moderation.ts';
import { moderationDeps } from '#adapters/moderation-deps.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { adminRestoreUser as contract } from '#contract/admin/restore-user.ts';

export const handler = httpHandler(contract).handle(async ({ auth, path, body }) => ({
  body: await restore(moderationDeps, auth, path.userId, body.note),
}));
