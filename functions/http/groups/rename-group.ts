// PATCH /api/groups/{conversationId} { name }: admins rename the group.
import { renameGroup as contract } from '#contract/groups/rename-group.ts';
import { renameGroup } from '#core/groups.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { groupChanging } from '#wiring/groups.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, path, body }) => ({
  body: await renameGroup(groupChanging(), auth.userId, path.conversationId, body.name),
}));
