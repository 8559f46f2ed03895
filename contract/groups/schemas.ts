// Group conversations as members see them: the group, its members with roles and key versions,
// invitations, and the fields of a group message (one wrapped message key per current member).
import * as z from 'zod/mini';
import { attachmentIds, base64, clientMessageId, userId } from '../common.ts';

export const groupRoles = ['admin', 'member'] as const;
export type GroupRole = (typeof groupRoles)[number];

/**
 * A group's name: NFKC, trimmed, 1-64 characters, none of them control, formatting (bidi), separator-line
 * or unassigned code points. (Not auth's display-name schema: its module costs the group bundles ~8 KB.)
 */
export const groupName = /* @__PURE__ */ (() =>
  z
    .string()
    .check(
      z.normalize('NFKC'),
      z.trim(),
      z.minLength(1, { message: 'At least 1 character' }),
      z.maxLength(64, { message: 'At most 64 characters' }),
      z.regex(/^[^\p{C}\p{Zl}\p{Zp}]+$/u, { message: 'Control, invisible and formatting characters are not allowed' }),
    ))();

/** People named in one request (create, invite): at most 20. */
export const inviteeIds = /* @__PURE__ */ (() => z.array(userId).check(z.minLength(1), z.maxLength(20, { message: 'At most 20 people per request' })))();

export const groupMember = /* @__PURE__ */ (() =>
  z.object({
    userId: z.string(),
    displayName: z.optional(z.string()),
    role: z.enum(groupRoles),
    joinedAt: z.string(),
    /** The member's current public-key version (absent: no key published, so no message can be wrapped for them). */
    keyVersion: z.optional(z.int()),
  }))();

export const group = /* @__PURE__ */ (() =>
  z.object({
    conversationId: z.string(),
    kind: z.literal('group'),
    name: z.string(),
    createdAt: z.string(),
    createdBy: z.string(),
    memberCount: z.int(),
    role: z.enum(groupRoles),
    members: z.array(groupMember),
  }))();
export type Group = z.infer<typeof group>;

export const invitation = /* @__PURE__ */ (() =>
  z.object({
    conversationId: z.string(),
    name: z.string(),
    inviterId: z.string(),
    createdAt: z.string(),
  }))();
export type Invitation = z.infer<typeof invitation>;

/**
 * The message key (random, 32 bytes) boxed to one member's current public key: 48 bytes of box
 * output (64 base64 characters), a 24-byte nonce, the key version it was boxed to.
 */
export const wrappedKeyInput = /* @__PURE__ */ (() => z.strictObject({ wrappedKey: base64(64), nonce: base64(32), keyVersion: z.int().check(z.positive()) }))();

/** What a client sends into a group (socket or HTTP): `keys` covers exactly the current members, the sender included. */
export const groupMessageFields = /* @__PURE__ */ (() => ({
  clientMessageId,
  ciphertext: base64(120_000),
  nonce: base64(64),
  senderKeyVersion: z.int().check(z.positive()),
  keys: z.record(userId, wrappedKeyInput).check(z.refine((keys) => Object.keys(keys).length <= 1000, { message: 'At most 1000 keys' })),
  attachmentIds,
}))();
export const groupMessageInput = /* @__PURE__ */ (() => z.strictObject(groupMessageFields))();
export type GroupMessageInput = z.infer<typeof groupMessageInput>;
