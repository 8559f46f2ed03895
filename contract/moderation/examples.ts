// Examples of the moderation routes for the API documents (contract/examples.ts says why they live apart).
import { at, errorExample, httpExamples, ids } from '../examples.ts';
import { blockUser } from './block-user.ts';
import { createReport } from './create-report.ts';
import { listBlocked } from './list-blocked.ts';
import { listMyReports } from './list-my-reports.ts';
import { unblockUser } from './unblock-user.ts';

export const benReport = {
  reportId: ids.report,
  targetUserId: ids.ben,
  reason: 'harassment',
  status: 'open',
  createdAt: at(40),
  updatedAt: at(40),
} as const;
const ben = { userId: ids.ben };

export const moderationExamples = [
  httpExamples(blockUser, {
    path: ben,
    responses: { 200: { ...ben, blockedAt: at(38) } },
    errors: { self: errorExample(400, 'The caller names themself', 'cannot_block_self', 'You cannot block yourself') },
  }),
  httpExamples(unblockUser, { path: ben, responses: { 204: null } }),
  httpExamples(listBlocked, {
    query: { limit: '50' },
    responses: { 200: { blocked: [{ ...ben, displayName: 'Ben Okafor', blockedAt: at(38) }] } },
  }),
  httpExamples(createReport, {
    bodies: {
      withEvidence: {
        targetUserId: ids.ben,
        reason: 'harassment',
        details: 'Keeps messaging after I asked him to stop',
        messageIds: [ids.message2],
        evidence: [{ messageId: ids.message2, plaintext: 'the text Ada chooses to reveal' }],
        block: true,
      },
      inGroup: { targetUserId: ids.cleo, conversationId: ids.group, reason: 'spam', messageIds: [ids.message3] },
    },
    responses: { 200: benReport, 201: benReport },
    errors: {
      evidence: errorExample(
        400,
        'Evidence for a message the report does not cite',
        'evidence_without_message',
        'Evidence must belong to the reported messages',
      ),
      unknownMessage: errorExample(
        404,
        "A cited message is not the target's in this conversation",
        'message_not_found',
        'No such message in this conversation',
      ),
    },
  }),
  httpExamples(listMyReports, {
    query: { limit: '20' },
    responses: { 200: { reports: [{ ...benReport, status: 'actioned', updatedAt: at(55) }] } },
  }),
];
