// POST /api/users/{userId}/block: idempotent; the blocked user is never told.
import { blockUser as contract } from '#contract/moderation/block-user.ts';
import { blockUser } from '#core/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { blocking } from '#wiring/moderation.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, path }) => ({
  body: { userId: path.userId, ...(await blockUser(blocking(), auth.userId, path.userId)) },
}));
