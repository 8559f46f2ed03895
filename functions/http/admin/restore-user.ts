// POST /api/admin/users/{userId}/restore: lifts a suspension, ban or auto-restriction.
import { adminRestoreUser as contract } from '#contract/admin/restore-user.ts';
import { restore } from '#core/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { staffGate } from '#wiring/auth.ts';
import { restoring } from '#wiring/moderation.ts';

export const handler = httpHandler(contract, staffGate).handle(async ({ auth, path, body }) => ({
  body: await restore(restoring(), auth, path.userId, body.note),
}));
