// GET /api/admin/reports/{reportId}
import * as z from 'zod/mini';
import { reportId } from '../common.ts';
import { httpContract } from '../route.ts';
import { report } from './schemas.ts';

export const adminGetReport = httpContract({
  id: 'AdminGetReport',
  method: 'GET',
  path: '/api/admin/reports/{reportId}',
  access: 'moderator',
  summary: "One report (an open one moves to reviewing) with the target's report history",
  input: { path: z.strictObject({ reportId }) },
  output: { 200: z.object({ report, targetHistory: z.array(report) }) },
});
