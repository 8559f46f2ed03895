// POST /api/groups { name, memberIds }: a new group, the caller its admin; everyone named is invited.
import { createGroup as contract } from '#contract/groups/create-group.ts';
import { createGroup } from '#core/groups.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { groupInviting } from '#wiring/groups.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, body }) => ({
  statusCode: 201,
  body: await createGroup(groupInviting(), auth.userId, body.name, body.memberIds),
}));
