// POST /api/reports
import * as z from 'zod/mini';
import { groupId, messageId, userId } from '../common.ts';
import { httpContract } from '../route.ts';
import { myReport, reportReasons } from './schemas.ts';

export const reportInput = z.strictObject({
  targetUserId: userId,
  /** A group the caller is a member of: the cited messages are then the caller's copies of the target's group messages. */
  conversationId: z.optional(groupId),
  reason: z.enum(reportReasons),
  details: z.optional(z.string().check(z.maxLength(1000, { message: 'At most 1000 characters' }))),
  messageIds: z.optional(z.array(messageId).check(z.minLength(1), z.maxLength(20, { message: 'At most 20 messages' }))),
  /** Plaintext the reporter chooses to reveal for those messages; the server cannot decrypt them. */
  evidence: z.optional(z.array(z.strictObject({ messageId, plaintext: z.string().check(z.maxLength(4000)) })).check(z.maxLength(20))),
  block: z.optional(z.boolean()),
});
export type ReportInput = z.infer<typeof reportInput>;

export const createReport = httpContract({
  id: 'CreateReport',
  method: 'POST',
  path: '/api/reports',
  access: 'user',
  summary:
    'Reports a user, optionally with messages and the plaintext the reporter chooses to reveal; idempotent. ' +
    "With a group `conversationId`, the messages are the target's messages in that group (the caller must be a member)",
  input: { body: reportInput },
  output: { 200: myReport, 201: myReport },
});
