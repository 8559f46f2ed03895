// Examples of the group routes for the API documents (contract/examples.ts says why they live apart).
import { sentAck } from '../conversations/examples.ts';
import { at, b64, errorExample, httpExamples, ids, validationFailed } from '../examples.ts';
import { acceptGroupInvitation } from './accept-group-invitation.ts';
import { createGroup } from './create-group.ts';
import { declineGroupInvitation } from './decline-group-invitation.ts';
import { getGroup } from './get-group.ts';
import { inviteGroupMembers } from './invite-group-members.ts';
import { leaveGroup } from './leave-group.ts';
import { listGroupInvitations } from './list-group-invitations.ts';
import { postGroupMessage } from './post-group-message.ts';
import { removeGroupMember } from './remove-group-member.ts';
import { renameGroup } from './rename-group.ts';
import { setGroupMemberRole } from './set-group-member-role.ts';

/** One message key, wrapped for each current member (the sender included) at their key version. */
export const groupMessage = {
  clientMessageId: 'c-7f3a9e21-0002',
  ciphertext: b64(48, 21),
  nonce: b64(24, 22),
  senderKeyVersion: 2,
  keys: {
    [ids.ada]: { wrappedKey: b64(48, 23), nonce: b64(24, 24), keyVersion: 2 },
    [ids.ben]: { wrappedKey: b64(48, 25), nonce: b64(24, 26), keyVersion: 1 },
    [ids.cleo]: { wrappedKey: b64(48, 27), nonce: b64(24, 28), keyVersion: 3 },
  },
};

const group = { conversationId: ids.group };
const notAdmin = errorExample(403, 'The caller is a member but not an admin', 'not_group_admin', 'Only group admins can do this');
const notMember = errorExample(404, 'Unknown group, or the caller is not a member (the same answer)', 'conversation_not_found', 'No such conversation');

export const groupsExamples = [
  httpExamples(createGroup, {
    bodies: { withBen: { name: 'Analytical Engine', memberIds: [ids.ben, ids.cleo] } },
    responses: { 201: group },
    errors: { tooMany: errorExample(409, 'The caller is in the most groups allowed', 'too_many_groups', 'You are already in 500 groups') },
  }),
  httpExamples(getGroup, {
    path: group,
    responses: {
      200: {
        ...group,
        kind: 'group',
        name: 'Analytical Engine',
        createdAt: at(12),
        createdBy: ids.ada,
        memberCount: 3,
        role: 'admin',
        members: [
          { userId: ids.ada, displayName: 'Ada Lovelace', role: 'admin', joinedAt: at(12), keyVersion: 2 },
          { userId: ids.ben, displayName: 'Ben Okafor', role: 'member', joinedAt: at(13), keyVersion: 1 },
          { userId: ids.cleo, displayName: 'Cleo Park', role: 'member', joinedAt: at(14), keyVersion: 3 },
        ],
      },
    },
    errors: { notMember },
  }),
  httpExamples(renameGroup, {
    path: group,
    bodies: { rename: { name: 'Difference Engine' } },
    responses: { 200: { ...group, name: 'Difference Engine' } },
    errors: { notAdmin },
  }),
  httpExamples(inviteGroupMembers, {
    path: group,
    bodies: { invite: { userIds: [ids.cleo] } },
    responses: { 204: null },
    errors: { notAdmin, full: errorExample(409, 'The group is at its member limit', 'group_full', 'The group already has 256 members') },
  }),
  httpExamples(removeGroupMember, {
    path: { ...group, userId: ids.cleo },
    responses: { 204: null },
    errors: { notAdmin, self: errorExample(400, 'An admin names themself', 'use_leave', 'Leave the group instead') },
  }),
  httpExamples(setGroupMemberRole, {
    path: { ...group, userId: ids.ben },
    bodies: { promote: { role: 'admin' } },
    responses: { 204: null },
    errors: { lastAdmin: errorExample(409, 'The last admin steps down', 'last_admin', 'A group needs an admin: make someone else admin first, or leave') },
  }),
  httpExamples(leaveGroup, { path: group, responses: { 204: null }, errors: { notMember } }),
  httpExamples(listGroupInvitations, {
    query: { limit: '20' },
    responses: { 200: { invitations: [{ ...group, name: 'Analytical Engine', inviterId: ids.ada, createdAt: at(12) }] } },
    errors: { badCursor: validationFailed('query', 'query.cursor', 'Too big: expected string to have <=512 characters', 'too_big') },
  }),
  httpExamples(acceptGroupInvitation, {
    path: group,
    responses: { 200: { ...group, joinedAt: at(14) } },
    errors: { none: errorExample(404, 'No open invitation to this group', 'invitation_not_found', 'No such invitation') },
  }),
  httpExamples(declineGroupInvitation, {
    path: group,
    responses: { 204: null },
    errors: { none: errorExample(404, 'No open invitation to this group', 'invitation_not_found', 'No such invitation') },
  }),
  httpExamples(postGroupMessage, {
    path: group,
    bodies: { message: groupMessage },
    responses: {
      200: { ...sentAck, clientMessageId: groupMessage.clientMessageId, conversationId: ids.group },
      201: { ...sentAck, clientMessageId: groupMessage.clientMessageId, conversationId: ids.group },
    },
    errors: {
      membersChanged: errorExample(
        409,
        '`keys` does not cover exactly the current members at their key versions',
        'members_changed',
        "The group's members or their keys changed: wrap the message key again and resend",
        {
          [ids.ada]: 2,
          [ids.ben]: 1,
          [ids.cleo]: 4,
        },
      ),
      notMember,
    },
  }),
];
