// POST /api/groups/{conversationId}/members { userIds }: admins invite; the answer never says who was skipped.
import { inviteGroupMembers as contract } from '#contract/groups/invite-group-members.ts';
import { inviteMembers } from '#core/groups.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { groupInviting } from '#wiring/groups.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, path, body }) => {
  await inviteMembers(groupInviting(), auth.userId, path.conversationId, body.userIds);
  return { statusCode: 204 };
});
