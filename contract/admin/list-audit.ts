// GET /api/admin/audit
import * as z from 'zod/mini';
import { cursor, pageLimit } from '../common.ts';
import { httpContract } from '../route.ts';
import { auditEntry } from './schemas.ts';

export const adminAudit = httpContract({
  id: 'AdminAudit',
  method: 'GET',
  path: '/api/admin/audit',
  access: 'admin',
  summary: 'The append-only audit log of moderator actions, newest first',
  input: { query: z.strictObject({ cursor, limit: pageLimit(100) }) },
  output: { 200: z.object({ entries: z.array(auditEntry), cursor: z.optional(z.string()) }) },
});
