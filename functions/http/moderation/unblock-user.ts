// DELETE /api/users/{userId}/block: idempotent; restores future delivery only.
import { unblock } from '#adapters/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { unblockUser as contract } from '#contract/moderation/unblock-user.ts';

export const handler = httpHandler(contract).handle(async ({ auth, path }) => {
  await unblock(auth.userId, path.userId);
  return { statusCode: 204 };
});
