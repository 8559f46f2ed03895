// Frames the server sends on a WebSocket. Replies to the caller are named by each route's contract;
// `pushFrames` are the ones that arrive without being asked on that connection (another user's
// action, an HTTP route, a moderator). Every frame leaves through its schema.
import * as z from 'zod/mini';
import { errorDetails } from '../common.ts';
import { groupEvents, message } from '../conversations/schemas.ts';

/**
 * `retryAfterSeconds`: on `rate_limited` and `throttled`/`unavailable` errors, when to send again.
 * `close`: the server ends this socket next, with this close code and reason (close-codes.ts); on AWS
 * the close itself carries no code of ours, so this frame is the signal.
 * Pure: only the WebSocket bundles keep it (HTTP routes bundle this module for their pushes).
 */
export const errorFrame = /* @__PURE__ */ (() =>
  z.object({
    type: z.literal('error'),
    /** The action and clientMessageId of the frame this answers, when it had well-formed ones (absent for pushed notices). */
    action: z.optional(z.string()),
    clientMessageId: z.optional(z.string()),
    code: z.string(),
    message: z.string(),
    details: z.optional(errorDetails),
    retryAfterSeconds: z.optional(z.int().check(z.positive())),
    close: z.optional(z.object({ code: z.int().check(z.gte(4000), z.lte(4999)), reason: z.string() })),
  }))();
export const messageFrame = z.extend(message, { type: z.literal('message') });
export const typingFrame = z.object({ type: z.literal('typing'), from: z.string(), conversationId: z.string() });
export const readFrame = z.object({ type: z.literal('read'), conversationId: z.string(), by: z.string(), upToMessageId: z.string() });
export const deliveredFrame = z.object({ type: z.literal('delivered'), conversationId: z.string(), by: z.string(), upToMessageId: z.string() });
export const presenceFrame = z.object({
  type: z.literal('presence'),
  userId: z.string(),
  status: z.enum(['online', 'offline']),
  lastSeen: z.optional(z.string()),
});
export const keyChangedFrame = z.object({
  type: z.literal('keyChanged'),
  userId: z.string(),
  version: z.int(),
  fingerprint: z.string(),
  identityChanged: z.boolean(),
  changedAt: z.string(),
});
/** A group's membership, roles or name changed: members reload it (GET /api/groups/{id}). */
export const groupUpdatedFrame = z.object({
  type: z.literal('groupUpdated'),
  conversationId: z.string(),
  event: z.enum(groupEvents),
  by: z.string(),
  userId: z.optional(z.string()),
});

/** A device of this account was linked (POST /api/devices/links/{linkId}/claim): shown on the other devices so a link nobody expected is noticed. */
export const deviceLinkedFrame = z.object({ type: z.literal('deviceLinked'), deviceId: z.string(), name: z.string(), linkedAt: z.string() });

export const pushFrames = {
  message: messageFrame,
  typing: typingFrame,
  read: readFrame,
  delivered: deliveredFrame,
  presence: presenceFrame,
  keyChanged: keyChangedFrame,
  deviceLinked: deviceLinkedFrame,
  groupUpdated: groupUpdatedFrame,
} as const;

export type PushFrameType = keyof typeof pushFrames;
/** Any frame the server pushes, as core code builds it. */
export type PushFrame = { [K in PushFrameType]: z.input<(typeof pushFrames)[K]> }[PushFrameType];
