// GET /api/groups/invitations
import * as z from 'zod/mini';
import { cursor, pageLimit } from '../common.ts';
import { httpContract } from '../route.ts';
import { invitation } from './schemas.ts';

export const listGroupInvitations = httpContract({
  id: 'ListGroupInvitations',
  method: 'GET',
  path: '/api/groups/invitations',
  access: 'user',
  summary: "The caller's open group invitations, newest first",
  input: { query: z.strictObject({ cursor, limit: pageLimit(100) }) },
  output: { 200: z.object({ invitations: z.array(invitation), cursor: z.optional(z.string()) }) },
});
