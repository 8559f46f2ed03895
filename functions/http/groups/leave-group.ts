// POST /api/groups/{conversationId}/leave: the last admin's leaving makes the longest-standing member admin.
import { leaveGroup as contract } from '#contract/groups/leave-group.ts';
import { leaveGroup } from '#core/groups.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { groupChanging } from '#wiring/groups.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, path }) => {
  await leaveGroup(groupChanging(), auth.userId, path.conversationId);
  return { statusCode: 204 };
});
