// POST /api/users/{userId}/block: idempotent; the blocked user is never told.
import { blockUser } from '#core/moderation.ts';
import { moderationDeps } from '#adapters/moderation-deps.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { blockUser as contract } from '#contract/moderation/block-user.ts';

export const handler = httpHandler(contract).handle(async ({ auth, path }) => ({
  body: { userId: path.userId, ...(await blockUser(moderationDeps, auth.userId, path.userId)) },
}));
