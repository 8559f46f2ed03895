// GET /api/users/blocked: the users the caller blocks, paginated.
import { listBlocked as contract } from '#contract/moderation/list-blocked.ts';
import { listBlocked } from '#core/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { blocking } from '#wiring/moderation.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, query }) => ({
  body: await listBlocked(blocking(), auth.userId, query.limit ?? 50, query.cursor),
}));
