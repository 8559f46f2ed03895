// Shapes every area shares: id formats (defined once, also used to check pagination cursors), the
// error body, base64 fields, cursors and page sizes.
import * as z from 'zod/mini';

/** Id formats as regular-expression sources, so key-shape checks (cursors) reuse them. */
export const idPatterns = {
  userId: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}',
  /** Direct (dm_, derived from the pair) or group (gr_, random) conversations. */
  conversationId: '(?:dm|gr)_[0-9a-f]{32}',
  groupId: 'gr_[0-9a-f]{32}',
  messageId: '[0-9A-HJKMNP-TV-Z]{26}',
  reportId: 'r_[0-9a-f]{32}',
  attachmentId: 'at_[0-9a-f]{32}',
  auditId: '[0-9A-HJKMNP-TV-Z]{26}',
  /** Timestamps as the server writes them (Date#toISOString). */
  isoTime: '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z',
} as const;

const whole = (source: string) => new RegExp(`^${source}$`);

export const userId = z.uuid({ message: 'Not a user id' });
export const conversationId = z.string().check(z.regex(whole(idPatterns.conversationId), { message: 'Not a conversation id' }));
export const directConversationId = z
  .string()
  .check(z.regex(/^dm_[0-9a-f]{32}$/, { message: 'Not a direct conversation id (group messages: POST /api/groups/{conversationId}/messages)' }));
export const groupId = z.string().check(z.regex(whole(idPatterns.groupId), { message: 'Not a group conversation id' }));
export const messageId = z.string().check(z.regex(whole(idPatterns.messageId), { message: 'Not a message id' }));
/** Pure, so that bundles that never name an attachment drop them. */
export const attachmentId = /* @__PURE__ */ (() => z.string().check(z.regex(whole(idPatterns.attachmentId), { message: 'Not an attachment id' })))();
/** Attachments a message shares: the sender's own finished uploads, at most 10 (each once: checked by the send). */
export const attachmentIds = /* @__PURE__ */ (() =>
  z.optional(z.array(attachmentId).check(z.maxLength(10, { message: 'At most 10 attachments per message' }))))();
export const reportId = z.string().check(z.regex(whole(idPatterns.reportId), { message: 'Not a report id' }));
export const clientMessageId = z.string().check(z.regex(/^[A-Za-z0-9_-]{8,64}$/, { message: '8-64 characters of A-Z a-z 0-9 _ -' }));

export const roles = ['user', 'moderator', 'admin'] as const;
export type Role = (typeof roles)[number];
export const accountStatuses = ['active', 'suspended', 'banned'] as const;
export type AccountStatus = (typeof accountStatuses)[number];

/** Standard base64 of at most `maxChars` characters. */
export const base64 = (maxChars: number) =>
  z
    .string()
    .check(
      z.maxLength(maxChars, { message: `At most ${maxChars} base64 characters` }),
      z.regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, { message: 'Must be standard base64' }),
    );

/**
 * What an error may add: field issues `[{ path, message, code }]`, or flat facts such as
 * `{ retryAfterSeconds }` or `{ until }`. Not checked at run time (a union here costs ~5 KB in every
 * bundle): `DomainError` accepts only `ErrorDetails` (functions/core/errors.ts), so the compiler
 * holds this shape, and only DomainErrors' details are ever sent.
 */
export const errorDetails = z.unknown();

export const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.optional(errorDetails) }),
});
export type ErrorBody = z.infer<typeof errorBody>;

/** An opaque pagination cursor (checked against the caller's own key shape by the route). */
export const cursor = z.optional(z.string().check(z.maxLength(512)));

/** A page size from the query string: an integer from 1 to `max`. */
export const pageLimit = (max: number) => z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(max)));

/** Routes without input: an empty query or path must stay empty. */
export const empty = z.strictObject({});
