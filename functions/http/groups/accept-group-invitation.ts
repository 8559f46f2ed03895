// POST /api/groups/{conversationId}/invitations/accept: joins; history starts now.
import { acceptGroupInvitation as contract } from '#contract/groups/accept-group-invitation.ts';
import { acceptInvitation } from '#core/groups.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { groupChanging } from '#wiring/groups.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, path }) => ({
  body: await acceptInvitation(groupChanging(), auth.userId, path.conversationId),
}));
