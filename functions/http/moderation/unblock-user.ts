// DELETE /api/users/{userId}/block: idempotent; restores future delivery only.
import { unblockUser as contract } from '#contract/moderation/unblock-user.ts';
import { unblockUser } from '#core/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { blocking } from '#wiring/moderation.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, path }) => {
  await unblockUser(blocking(), auth.userId, path.userId);
  return { statusCode: 204 };
});
