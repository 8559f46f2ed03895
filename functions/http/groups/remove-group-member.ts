// DELETE /api/groups/{conversationId}/members/{userId}: admins remove a member (or withdraw an invitation).
import { removeGroupMember as contract } from '#contract/groups/remove-group-member.ts';
import { removeMember } from '#core/groups.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { groupChanging } from '#wiring/groups.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, path }) => {
  await removeMember(groupChanging(), auth.userId, path.conversationId, path.userId);
  return { statusCode: 204 };
});
