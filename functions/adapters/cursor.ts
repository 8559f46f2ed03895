// Pagination cursors: a DynamoDB LastEvaluatedKey as base64url JSON. Clients may tamper with them,
// so each route decodes against a strict schema of exactly the key it expects (its own partition);
// anything else is a 400, never a DynamoDB error.
import { z } from 'zod';
import { BadRequest } from '#core/errors.ts';

export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

export function decodeCursor<S extends z.ZodType<Record<string, unknown>>>(cursor: string | undefined, schema: S): z.output<S> | undefined {
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

const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const isoTime = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z';
const reportId = 'r_[0-9a-f]{32}';
const conversationId = 'dm_[0-9a-f]{32}';
const re = (source: string) => z.string().regex(new RegExp(`^${source}$`));

/** The key shapes our paginated Queries return, each pinned to the caller's own partition. */
export const cursors = {
  blocked: (userId: string) => z.strictObject({ pk: z.literal(`USER#${userId}`), sk: re(`BLOCK#${uuid}`) }),
  myReports: (userId: string) => z.strictObject({ pk: z.literal(`USER#${userId}`), sk: re(`MYREPORT#${isoTime}#${reportId}`) }),
  inbox: (userId: string) =>
    z.strictObject({ pk: re(`CONV#${conversationId}`), sk: z.literal(`MEMBER#${userId}`), gsi1pk: z.literal(`INBOX#${userId}`), gsi1sk: re(`${isoTime}#${conversationId}`) }),
  queue: (status: string) => z.strictObject({ pk: re(`REPORT#${reportId}`), sk: z.literal('REPORT'), gsi1pk: z.literal(`REPORTS#${status}`), gsi1sk: re(`${isoTime}#${reportId}`) }),
  audit: () => z.strictObject({ pk: z.literal('AUDIT'), sk: re('[0-9A-HJKMNP-TV-Z]{26}') }),
};
