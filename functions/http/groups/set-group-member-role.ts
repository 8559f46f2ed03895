// PUT /api/groups/{conversationId}/members/{userId}/role { role }: admins promote or demote.
import { setGroupMemberRole as contract } from '#contract/groups/set-group-member-role.ts';
import { setMemberRole } from '#core/groups.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { groupChanging } from '#wiring/groups.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, path, body }) => {
  await setMemberRole(groupChanging(), auth.userId, path.conversationId, path.userId, body.role);
  return { statusCode: 204 };
});
