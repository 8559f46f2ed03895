// GET /api/groups/invitations: the caller's open invitations, newest first.
import { listGroupInvitations as contract } from '#contract/groups/list-group-invitations.ts';
import { listInvitations } from '#core/groups.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { groupReading } from '#wiring/groups.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, query }) => ({
  body: await listInvitations(groupReading(), auth.userId, query.limit ?? 50, query.cursor),
}));
