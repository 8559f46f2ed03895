// GET /api/groups/{conversationId}: the group as a member sees it, with members' roles and key versions.
import { getGroup as contract } from '#contract/groups/get-group.ts';
import { getGroup } from '#core/groups.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { groupViewing } from '#wiring/groups.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, path }) => ({
  body: await getGroup(groupViewing(), auth.userId, path.conversationId),
}));
