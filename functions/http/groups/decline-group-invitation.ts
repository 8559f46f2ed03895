// POST /api/groups/{conversationId}/invitations/decline: the inviter is not told.
import { declineGroupInvitation as contract } from '#contract/groups/decline-group-invitation.ts';
import { declineInvitation } from '#core/groups.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { groupReading } from '#wiring/groups.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, path }) => {
  await declineInvitation(groupReading(), auth.userId, path.conversationId);
  return { statusCode: 204 };
});
