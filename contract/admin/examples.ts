// Examples of the moderator and admin routes for the API documents (contract/examples.ts says why they live apart).
import { at, errorExample, httpExamples, ids } from '../examples.ts';
import { benReport } from '../moderation/examples.ts';
import { adminBanUser } from './ban-user.ts';
import { adminGetReport } from './get-report.ts';
import { adminAudit } from './list-audit.ts';
import { adminListReports } from './list-reports.ts';
import { adminResolveReport } from './resolve-report.ts';
import { adminRestoreUser } from './restore-user.ts';
import { adminSuspendUser } from './suspend-user.ts';

const report = {
  ...benReport,
  reporterId: ids.ada,
  details: 'Keeps messaging after I asked him to stop',
  messageIds: [ids.message2],
  evidence: [{ messageId: ids.message2, plaintext: 'the text Ada chooses to reveal' }],
};
const reviewing = { ...report, status: 'reviewing', updatedAt: at(50) } as const;
const resolved = {
  ...report,
  status: 'actioned',
  updatedAt: at(55),
  decision: 'suspend',
  moderatorId: ids.mo,
  moderatorNote: 'Second warning ignored',
} as const;
const earlier = {
  reportId: 'r_0c1f3e5a7c9f2b4d6e8a04e8a2c6f0b1',
  targetUserId: ids.ben,
  reporterId: ids.cleo,
  reason: 'spam',
  status: 'dismissed',
  createdAt: '2026-02-02T18:00:00.000Z',
  updatedAt: '2026-02-03T08:00:00.000Z',
  decision: 'dismiss',
  moderatorId: ids.mo,
  group: { conversationId: ids.group, name: 'Analytical Engine', memberCount: 3 },
} as const;
const ben = { userId: ids.ben };
const noReport = errorExample(404, 'No such report', 'report_not_found', 'No such report');
const staff = errorExample(403, 'The target is staff', 'target_is_staff', 'Staff accounts are handled by administrators');

export const adminExamples = [
  httpExamples(adminListReports, {
    query: { status: 'open', reason: 'harassment', limit: '50' },
    responses: { 200: { reports: [report], cursor: 'eyJwayI6IlJFUE9SVCMuLi4ifQ' } },
  }),
  httpExamples(adminGetReport, {
    path: { reportId: ids.report },
    responses: { 200: { report: reviewing, targetHistory: [earlier] } },
    errors: { noReport },
  }),
  httpExamples(adminResolveReport, {
    path: { reportId: ids.report },
    bodies: {
      suspend: { decision: 'suspend', durationHours: 72, note: 'Second warning ignored' },
      dismiss: { decision: 'dismiss', note: 'Friendly banter, both sides' },
    },
    responses: { 200: { report: resolved } },
    errors: { noReport, resolved: errorExample(409, 'Already actioned or dismissed', 'report_resolved', 'This report is already resolved') },
  }),
  httpExamples(adminSuspendUser, {
    path: ben,
    bodies: { suspend: { durationHours: 24, note: 'Cooling-off period' } },
    responses: { 200: { ...ben, status: 'suspended', suspendedUntil: '2026-03-15T09:56:00.000Z' } },
    errors: {
      staff,
      banned: errorExample(
        409,
        'A banned account is restored before a suspension',
        'already_banned',
        'This account is banned; restore it before suspending it',
      ),
    },
  }),
  httpExamples(adminBanUser, {
    path: ben,
    bodies: { ban: { note: 'Repeated harassment after suspension' } },
    responses: { 200: { ...ben, status: 'banned' } },
    errors: { staff },
  }),
  httpExamples(adminRestoreUser, {
    path: ben,
    bodies: { restore: { note: 'Appeal accepted' } },
    responses: { 200: { ...ben, status: 'active' } },
    errors: { unknown: errorExample(404, 'No such user', 'user_not_found', 'No such user') },
  }),
  httpExamples(adminAudit, {
    query: { limit: '50' },
    responses: {
      200: {
        entries: [
          {
            auditId: ids.audit,
            at: at(55),
            actorId: ids.mo,
            action: 'resolve_suspend',
            targetUserId: ids.ben,
            reportId: ids.report,
            note: 'Second warning ignored',
          },
          {
            auditId: '01JDR09Y3K5M7P9R1T3V5X7Z9B',
            at: at(50),
            actorId: 'system',
            action: 'auto_restrict',
            targetUserId: ids.ben,
            details: { reporters: 3, windowHours: 24 },
          },
        ],
        cursor: 'eyJwayI6IkFVRElUIy4uLiJ9',
      },
    },
  }),
];
