// DELETE /api/users/{userId}/block: idempotent; restores future delivery only.
import { unblock } from '#adapters/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { routes } from '#lib/routes.ts';

export const handler = httpHandler(routes.unblockUser, async ({ auth, path }) => {
  await unblock(auth.userId, path.userId);
  return { statusCode: 204 };
});
