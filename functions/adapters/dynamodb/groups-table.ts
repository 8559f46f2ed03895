// Group membership and invitations, messages table: CONV#<gid> / META (name, counts), MEMBER#<user>
// (role, joinedAt), INVITE#<user> (GSI byMember INVITES#<user>), ENTRY#<user> (the member's inbox
// entry, moved by sends) and VIEW#<user>#<ulid> (each member's own copies: its history); USER#<user> /
// GROUPS counts a user's groups. Every change that must hold together is one TransactWriteItems;
// membership changes are conditioned on META's counts as read (optimistic: core re-reads and retries).
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import type { Clock, GroupInvitationRecord, GroupMemberRecord, GroupsPort } from '#core/ports.ts';
import { batchWriteAll } from './batch.ts';
import { cursors, decodeCursor, encodeCursor } from './cursor.ts';
import { readRoster } from './group-roster.ts';
import { isConditionFailure, stripKeys, type Db } from './db.ts';
import { convKey, entryKey, groupCountKey, inviteKey, memberKey, viewKey } from './item-keys.ts';

const newUlid = monotonicFactory();

/** Which of a transaction's items failed its condition (indexes), or undefined for another error. */
function cancelled(error: unknown): number[] | undefined {
  if (!(error instanceof TransactionCanceledException) && (error as Error)?.name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
  return reasons.flatMap((r, i) => (r.Code === 'ConditionalCheckFailed' ? [i] : []));
}

export function groupsTable(db: Db, clock: Clock, retentionSeconds: number): GroupsPort {
  const { doc } = db;
  const table = () => db.table('messages');
  const metaKey = (g: string) => convKey(g, 'META');
  const memberItem = (m: GroupMemberRecord) => ({ ...memberKey(m.conversationId, m.userId), ...m });
  const entryItem = (g: string, userId: string, joinedAt: string) => ({
    ...entryKey(g, userId),
    conversationId: g,
    userId,
    kind: 'group',
    createdAt: joinedAt,
    gsi1pk: `INBOX#${userId}`,
    gsi1sk: `${joinedAt}#${g}`,
  });
  const countUp = (userId: string, max: number) => ({
    Update: {
      TableName: table(),
      Key: groupCountKey(userId),
      UpdateExpression: 'ADD groups :one',
      ConditionExpression: 'attribute_not_exists(groups) OR groups < :max',
      ExpressionAttributeValues: { ':one': 1, ':max': max },
    },
  });
  const countDown = (userId: string) => ({
    Update: { TableName: table(), Key: groupCountKey(userId), UpdateExpression: 'ADD groups :minus', ExpressionAttributeValues: { ':minus': -1 } },
  });

  return {
    async create(meta, creator, maxPerUser) {
      try {
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: { TableName: table(), Item: { ...metaKey(meta.conversationId), kind: 'group', ...meta }, ConditionExpression: 'attribute_not_exists(pk)' },
              },
              { Put: { TableName: table(), Item: memberItem(creator) } },
              { Put: { TableName: table(), Item: entryItem(meta.conversationId, creator.userId, creator.joinedAt) } },
              countUp(creator.userId, maxPerUser),
            ],
          }),
        );
        return true;
      } catch (error) {
        if (cancelled(error)?.includes(3)) return false;
        throw error;
      }
    },

    async getMember(g, userId) {
      const out = await doc.send(new GetCommand({ TableName: table(), Key: memberKey(g, userId), ConsistentRead: true }));
      return out.Item ? stripKeys<GroupMemberRecord>(out.Item) : undefined;
    },

    roster: (g) => readRoster(db, g),

    async invite(invitations) {
      await batchWriteAll(
        db,
        table(),
        invitations.map((i) => ({
          put: { ...inviteKey(i.conversationId, i.userId), ...i, gsi1pk: `INVITES#${i.userId}`, gsi1sk: `${i.createdAt}#${i.conversationId}` },
        })),
      );
    },

    async getInvitation(g, userId) {
      const out = await doc.send(new GetCommand({ TableName: table(), Key: inviteKey(g, userId), ConsistentRead: true }));
      return out.Item ? stripKeys<GroupInvitationRecord>(out.Item) : undefined;
    },

    async deleteInvitation(g, userId) {
      const out = await doc.send(new DeleteCommand({ TableName: table(), Key: inviteKey(g, userId), ReturnValues: 'ALL_OLD' }));
      return Boolean(out.Attributes);
    },

    async invitationsOf(userId, limit, cursorText) {
      const cursor = decodeCursor(cursorText, cursors.invitations(userId));
      const out = await doc.send(
        new QueryCommand({
          TableName: table(),
          IndexName: 'byMember',
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': `INVITES#${userId}` },
          ScanIndexForward: false,
          Limit: limit,
          ...(cursor ? { ExclusiveStartKey: cursor } : {}),
        }),
      );
      return { items: (out.Items ?? []).map((i) => stripKeys<GroupInvitationRecord>(i)), cursor: encodeCursor(out.LastEvaluatedKey) };
    },

    async accept(invitation, joinedAt, limits) {
      const { conversationId: g, userId } = invitation;
      try {
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [
              { Delete: { TableName: table(), Key: inviteKey(g, userId), ConditionExpression: 'attribute_exists(pk)' } },
              {
                Update: {
                  TableName: table(),
                  Key: metaKey(g),
                  UpdateExpression: 'ADD memberCount :one',
                  ConditionExpression: 'attribute_exists(pk) AND memberCount < :max',
                  ExpressionAttributeValues: { ':one': 1, ':max': limits.maxMembers },
                },
              },
              {
                Put: {
                  TableName: table(),
                  Item: memberItem({ conversationId: g, userId, role: 'member', joinedAt, invitedBy: invitation.inviterId }),
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              { Put: { TableName: table(), Item: entryItem(g, userId, joinedAt) } },
              countUp(userId, limits.maxPerUser),
            ],
          }),
        );
        return 'joined';
      } catch (error) {
        const failed = cancelled(error);
        if (!failed) throw error;
        if (failed.includes(0) || failed.includes(2)) return 'gone';
        if (failed.includes(1)) {
          const meta = await doc.send(new GetCommand({ TableName: table(), Key: metaKey(g), ConsistentRead: true }));
          return meta.Item ? 'group_full' : 'gone';
        }
        if (failed.includes(4)) return 'too_many_groups';
        throw error;
      }
    },

    async removeMember(g, userId, seen, removedRole, promote) {
      const admins = removedRole === 'admin' && !promote ? -1 : 0;
      try {
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: table(),
                  Key: metaKey(g),
                  UpdateExpression: 'SET memberCount = :m, adminCount = :a',
                  ConditionExpression: 'memberCount = :seenM AND adminCount = :seenA',
                  ExpressionAttributeValues: {
                    ':m': seen.memberCount - 1,
                    ':a': seen.adminCount + admins,
                    ':seenM': seen.memberCount,
                    ':seenA': seen.adminCount,
                  },
                },
              },
              { Delete: { TableName: table(), Key: memberKey(g, userId), ConditionExpression: 'attribute_exists(pk)' } },
              { Delete: { TableName: table(), Key: entryKey(g, userId) } },
              countDown(userId),
              ...(promote
                ? [
                    {
                      Update: {
                        TableName: table(),
                        Key: memberKey(g, promote),
                        UpdateExpression: 'SET #r = :admin',
                        ConditionExpression: 'attribute_exists(pk)',
                        ExpressionAttributeNames: { '#r': 'role' },
                        ExpressionAttributeValues: { ':admin': 'admin' },
                      },
                    },
                  ]
                : []),
            ],
          }),
        );
        return true;
      } catch (error) {
        if (cancelled(error)) return false;
        throw error;
      }
    },

    async setRole(g, userId, role, seen, previous) {
      const delta = role === previous ? 0 : role === 'admin' ? 1 : -1;
      try {
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: table(),
                  Key: metaKey(g),
                  UpdateExpression: 'SET adminCount = :a',
                  ConditionExpression: 'memberCount = :seenM AND adminCount = :seenA',
                  ExpressionAttributeValues: { ':a': seen.adminCount + delta, ':seenM': seen.memberCount, ':seenA': seen.adminCount },
                },
              },
              {
                Update: {
                  TableName: table(),
                  Key: memberKey(g, userId),
                  UpdateExpression: 'SET #r = :role',
                  ConditionExpression: 'attribute_exists(pk) AND #r = :previous',
                  ExpressionAttributeNames: { '#r': 'role' },
                  ExpressionAttributeValues: { ':role': role, ':previous': previous },
                },
              },
            ],
          }),
        );
        return true;
      } catch (error) {
        if (cancelled(error)) return false;
        throw error;
      }
    },

    async rename(g, name) {
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table(),
            Key: metaKey(g),
            UpdateExpression: 'SET #n = :name',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#n': 'name' },
            ExpressionAttributeValues: { ':name': name },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async appendEvent(g, viewers, actorId, event) {
      const now = clock.now();
      const messageId = newUlid(now);
      const sentAt = new Date(now).toISOString();
      const expiresAt = Math.floor(now / 1000) + retentionSeconds;
      await batchWriteAll(
        db,
        table(),
        viewers.map((viewer) => ({
          put: {
            ...viewKey(g, viewer, messageId),
            conversationId: g,
            messageId,
            clientMessageId: `system-${messageId}`,
            senderId: actorId,
            recipientId: viewer,
            ciphertext: '',
            nonce: '',
            senderKeyVersion: 0,
            recipientKeyVersion: 0,
            sentAt,
            event,
            expiresAt,
          },
        })),
      );
    },
  };
}
