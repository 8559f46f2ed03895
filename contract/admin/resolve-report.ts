// POST /api/admin/reports/{reportId}/resolve
import * as z from 'zod/mini';
import { reportId } from '../common.ts';
import { httpContract } from '../route.ts';
import { decisions, hours, note, report } from './schemas.ts';

export const resolution = z.strictObject({ decision: z.enum(decisions), durationHours: z.optional(hours), note }).check(
  z.superRefine((v, ctx) => {
    if (v.decision === 'suspend' && v.durationHours === undefined)
      ctx.addIssue({ code: 'custom', path: ['durationHours'], message: 'A suspension needs durationHours', input: v });
    if (v.decision !== 'suspend' && v.durationHours !== undefined)
      ctx.addIssue({ code: 'custom', path: ['durationHours'], message: 'Only a suspension takes durationHours', input: v });
  }),
);

export const adminResolveReport = httpContract({
  id: 'AdminResolveReport',
  method: 'POST',
  path: '/api/admin/reports/{reportId}/resolve',
  access: 'moderator',
  summary: 'Decides a report: dismiss, warn, suspend (durationHours) or ban; written to the audit log',
  input: { path: z.strictObject({ reportId }), body: resolution },
  output: { 200: z.object({ report }) },
});
