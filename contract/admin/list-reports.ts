// GET /api/admin/reports
import * as z from 'zod/mini';
import { cursor, pageLimit } from '../common.ts';
import { reportReasons, reportStatuses } from '../moderation/schemas.ts';
import { httpContract } from '../route.ts';
import { report } from './schemas.ts';

export const adminListReports = httpContract({
  id: 'AdminListReports',
  method: 'GET',
  path: '/api/admin/reports',
  access: 'moderator',
  summary: 'The moderation queue: oldest first by status (default open), filterable by reason',
  input: { query: z.strictObject({ status: z.optional(z.enum(reportStatuses)), reason: z.optional(z.enum(reportReasons)), cursor, limit: pageLimit(100) }) },
  output: { 200: z.object({ reports: z.array(report), cursor: z.optional(z.string()) }) },
});
