// Pagination cursors: a DynamoDB LastEvaluatedKey as base64url JSON. Clients may tamper with them,
// so each Query decodes against a strict schema of exactly the key it expects (the caller's own
// partition); anything else is a 400, never a DynamoDB error. Id formats come from the contract.
import * as z from 'zod/mini';
import { idPatterns } from '#contract/common.ts';
import { BadRequest } from '#core/errors.ts';

export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

export function decodeCursor(cursor: string | undefined, schema: z.ZodMiniType<Record<string, unknown>>): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new BadRequest('Invalid cursor', 'invalid_cursor');
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw new BadRequest('Invalid cursor', 'invalid_cursor');
  return result.data;
}

const { userId: uuid, isoTime, reportId, conversationId, groupId, auditId } = idPatterns;
const re = (source: string) => z.string().check(z.regex(new RegExp(`^${source}$`)));

/** The key shapes our paginated Queries return, each pinned to the caller's own partition. */
export const cursors = {
  blocked: (userId: string) => z.strictObject({ pk: z.literal(`USER#${userId}`), sk: re(`BLOCK#${uuid}`) }),
  myReports: (userId: string) => z.strictObject({ pk: z.literal(`USER#${userId}`), sk: re(`MYREPORT#${isoTime}#${reportId}`) }),
  reportsAbout: (userId: string) => z.strictObject({ pk: z.literal(`USER#${userId}`), sk: re(`REPORTED#${isoTime}#${reportId}`) }),
  inbox: (userId: string) =>
    z.strictObject({
      pk: re(`CONV#${conversationId}`),
      // a direct conversation's member item, or a group's inbox entry
      sk: z.union([z.literal(`MEMBER#${userId}`), z.literal(`ENTRY#${userId}`)]),
      gsi1pk: z.literal(`INBOX#${userId}`),
      gsi1sk: re(`${isoTime}#${conversationId}`),
    }),
  invitations: (userId: string) =>
    z.strictObject({
      pk: re(`CONV#${groupId}`),
      sk: z.literal(`INVITE#${userId}`),
      gsi1pk: z.literal(`INVITES#${userId}`),
      gsi1sk: re(`${isoTime}#${groupId}`),
    }),
  queue: (status: string) =>
    z.strictObject({ pk: re(`REPORT#${reportId}`), sk: z.literal('REPORT'), gsi1pk: z.literal(`REPORTS#${status}`), gsi1sk: re(`${isoTime}#${reportId}`) }),
  audit: () => z.strictObject({ pk: z.literal('AUDIT'), sk: re(auditId) }),
};
