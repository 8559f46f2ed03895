// GET /api/reports/mine
import * as z from 'zod/mini';
import { cursor, pageLimit } from '../common.ts';
import { httpContract } from '../route.ts';
import { myReport } from './schemas.ts';

export const listMyReports = httpContract({
  id: 'ListMyReports',
  method: 'GET',
  path: '/api/reports/mine',
  access: 'user',
  summary: "The status of the caller's reports (never the moderator's notes)",
  input: { query: z.strictObject({ cursor, limit: pageLimit(100) }) },
  output: { 200: z.object({ reports: z.array(myReport), cursor: z.optional(z.string()) }) },
});
