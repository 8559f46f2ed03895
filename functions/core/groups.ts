// Group membership over ports: create, invite, accept or decline, remove, change roles, leave, rename,
// and the reads (the group as a member sees it, the caller's invitations). A person joins only by
// accepting; an invitation from someone the invitee blocks is silently not made. Non-members get the
// 404 of a group that does not exist; members who are not admins get 403 on admin actions.
// Membership changes leave a system entry in the members' history and push `groupUpdated`.
import { randomBytes } from 'node:crypto';
import type { GroupEvent } from '#contract/conversations/schemas.ts';
import type { Group, GroupRole } from '#contract/groups/schemas.ts';
import { assertActive } from './authn.ts';
import type { Config } from './config.ts';
import { BadRequest, Conflict, Forbidden, NotFound, ServiceUnavailable, Unauthorized } from './errors.ts';
import type { BlocksPort, Clock, ConnectionsPort, GroupMemberRecord, GroupMeta, GroupsPort, PublicKeysPort, UsersPort } from './ports.ts';

/** What every membership route needs; each composition root adds only what its routes use. */
export interface GroupReadDeps {
  config: Config;
  clock: Clock;
  users: Pick<UsersPort, 'get' | 'displayNames'>;
  groups: GroupsPort;
}

/** Inviting skips, silently, everyone who blocks the inviter. */
export interface GroupInviteDeps extends GroupReadDeps {
  blocks: Pick<BlocksPort, 'blockersOf'>;
}

/** Membership changes push groupUpdated to the members. */
export interface GroupChangeDeps extends GroupReadDeps {
  connections: Pick<ConnectionsPort, 'push'>;
}

/** GET /api/groups/{id} shows the members' current key versions. */
export interface GroupViewDeps extends GroupReadDeps {
  keys: Pick<PublicKeysPort, 'getCurrent'>;
}

const notFound = () => new NotFound('No such conversation', 'conversation_not_found');
const iso = (deps: Pick<GroupReadDeps, 'clock'>) => new Date(deps.clock.now()).toISOString();

export const newGroupId = () => `gr_${randomBytes(16).toString('hex')}`;

async function activeCaller(deps: GroupReadDeps, userId: string) {
  const caller = await deps.users.get(userId);
  if (!caller) throw new Unauthorized('This account no longer exists', 'token_revoked');
  assertActive(caller, deps.clock.now());
  return caller;
}

/** The caller's membership and the group's roster; strangers get a 404. */
async function rosterFor(deps: GroupReadDeps, g: string, userId: string) {
  const { meta, members } = await deps.groups.roster(g);
  const me = members.find((m) => m.userId === userId);
  if (!meta || !me) throw notFound();
  return { meta, members, me };
}

async function adminRoster(deps: GroupReadDeps, g: string, userId: string) {
  const r = await rosterFor(deps, g, userId);
  if (r.me.role !== 'admin') throw new Forbidden('Only group admins can do this', 'not_group_admin');
  return r;
}

/** A system entry for the members and a groupUpdated push; `also` hears the push too (a removed member). */
async function announce(
  deps: GroupChangeDeps,
  g: string,
  viewers: string[],
  by: string,
  event: { type: GroupEvent; userId?: string; role?: string; name?: string },
  also: string[] = [],
) {
  await deps.groups.appendEvent(g, viewers, by, event);
  await deps.connections.push([...viewers, ...also], {
    type: 'groupUpdated',
    conversationId: g,
    event: event.type,
    by,
    ...(event.userId ? { userId: event.userId } : {}),
  });
}

/** Invitations to those who exist, are not members yet and do not block the inviter; the rest are silently skipped. */
async function inviteInto(deps: GroupInviteDeps, meta: GroupMeta, members: readonly GroupMemberRecord[], inviterId: string, userIds: readonly string[]) {
  const wanted = [...new Set(userIds)].filter((u) => u !== inviterId && !members.some((m) => m.userId === u));
  if (!wanted.length) return;
  const [names, blockers] = await Promise.all([deps.users.displayNames(wanted), deps.blocks.blockersOf(inviterId)]);
  const createdAt = iso(deps);
  const invitations = wanted
    .filter((u) => names.has(u) && !blockers.has(u))
    .map((userId) => ({ conversationId: meta.conversationId, userId, inviterId, name: meta.name, createdAt }));
  if (invitations.length) await deps.groups.invite(invitations);
}

export async function createGroup(deps: GroupInviteDeps, callerId: string, name: string, memberIds: readonly string[]) {
  const caller = await activeCaller(deps, callerId);
  if (caller.restrictedAt) {
    throw new Forbidden('Your account cannot start new conversations until a moderator has reviewed reports about it', 'account_restricted');
  }
  const createdAt = iso(deps);
  const meta: GroupMeta = { conversationId: newGroupId(), name, createdAt, createdBy: callerId, memberCount: 1, adminCount: 1 };
  const creator: GroupMemberRecord = { conversationId: meta.conversationId, userId: callerId, role: 'admin', joinedAt: createdAt };
  if (!(await deps.groups.create(meta, creator, deps.config.groups.maxPerUser))) {
    throw new Conflict(`You are already in ${deps.config.groups.maxPerUser} groups`, 'too_many_groups');
  }
  await Promise.all([
    deps.groups.appendEvent(meta.conversationId, [callerId], callerId, { type: 'created', name }),
    inviteInto(deps, meta, [creator], callerId, memberIds),
  ]);
  return { conversationId: meta.conversationId };
}

export async function getGroup(deps: GroupViewDeps, callerId: string, g: string): Promise<Group> {
  const { meta, members, me } = await rosterFor(deps, g, callerId);
  const ids = members.map((m) => m.userId);
  const [names, keys] = await Promise.all([deps.users.displayNames(ids), Promise.all(ids.map((u) => deps.keys.getCurrent(u)))]);
  return {
    conversationId: g,
    kind: 'group',
    name: meta.name,
    createdAt: meta.createdAt,
    createdBy: meta.createdBy,
    memberCount: members.length,
    role: me.role,
    members: members.map((m, i) => ({
      userId: m.userId,
      ...(names.has(m.userId) ? { displayName: names.get(m.userId)! } : {}),
      role: m.role,
      joinedAt: m.joinedAt,
      ...(keys[i] ? { keyVersion: keys[i].version } : {}),
    })),
  };
}

export async function renameGroup(deps: GroupChangeDeps, callerId: string, g: string, name: string) {
  const { members } = await adminRoster(deps, g, callerId);
  if (!(await deps.groups.rename(g, name))) throw notFound();
  await announce(
    deps,
    g,
    members.map((m) => m.userId),
    callerId,
    { type: 'renamed', name },
  );
  return { conversationId: g, name };
}

export async function inviteMembers(deps: GroupInviteDeps, callerId: string, g: string, userIds: readonly string[]) {
  await activeCaller(deps, callerId);
  const { meta, members } = await adminRoster(deps, g, callerId);
  await inviteInto(deps, meta, members, callerId, userIds);
}

export async function listInvitations(deps: GroupReadDeps, userId: string, limit: number, cursor: string | undefined) {
  const page = await deps.groups.invitationsOf(userId, limit, cursor);
  return {
    invitations: page.items.map(({ conversationId, name, inviterId, createdAt }) => ({ conversationId, name, inviterId, createdAt })),
    ...(page.cursor ? { cursor: page.cursor } : {}),
  };
}

const noInvitation = () => new NotFound('No such invitation', 'invitation_not_found');

export async function acceptInvitation(deps: GroupChangeDeps, callerId: string, g: string) {
  const [invitation] = await Promise.all([deps.groups.getInvitation(g, callerId), activeCaller(deps, callerId)]);
  if (!invitation) throw noInvitation();
  const joinedAt = iso(deps);
  const { maxMembers, maxPerUser } = deps.config.groups;
  const outcome = await deps.groups.accept(invitation, joinedAt, { maxMembers, maxPerUser });
  if (outcome === 'gone') throw noInvitation();
  if (outcome === 'group_full') throw new Conflict(`The group already has ${maxMembers} members`, 'group_full');
  if (outcome === 'too_many_groups') throw new Conflict(`You are already in ${maxPerUser} groups`, 'too_many_groups');
  const { members } = await deps.groups.roster(g);
  // "A added B": the inviter is the actor, the joiner the subject
  await announce(
    deps,
    g,
    members.map((m) => m.userId),
    invitation.inviterId,
    { type: 'joined', userId: callerId },
  );
  return { conversationId: g, joinedAt };
}

export async function declineInvitation(deps: GroupReadDeps, callerId: string, g: string) {
  if (!(await deps.groups.deleteInvitation(g, callerId))) throw noInvitation();
}

/** Membership changes are conditioned on the counts read; a concurrent change makes one retry with fresh reads. */
async function withRetries<T>(attempt: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 5; i++) {
    const done = await attempt();
    if (done !== undefined) return done;
  }
  throw new ServiceUnavailable('The group is changing; retry', 'busy');
}

export async function removeMember(deps: GroupChangeDeps, callerId: string, g: string, targetId: string) {
  if (targetId === callerId) throw new BadRequest('Leave the group instead', 'use_leave');
  const removed = await withRetries(async () => {
    const { meta, members } = await adminRoster(deps, g, callerId);
    const target = members.find((m) => m.userId === targetId);
    if (!target) {
      // an open invitation is withdrawn instead; otherwise the same 404 as for anyone unknown
      if (await deps.groups.deleteInvitation(g, targetId)) return 'withdrawn' as const;
      throw new NotFound('No such member', 'member_not_found');
    }
    const ok = await deps.groups.removeMember(g, targetId, meta, target.role);
    return ok ? { remaining: members.filter((m) => m.userId !== targetId).map((m) => m.userId) } : undefined;
  });
  if (removed !== 'withdrawn') await announce(deps, g, removed.remaining, callerId, { type: 'removed', userId: targetId }, [targetId]);
}

export async function leaveGroup(deps: GroupChangeDeps, callerId: string, g: string) {
  const outcome = await withRetries(async () => {
    const { meta, members, me } = await rosterFor(deps, g, callerId);
    const others = members.filter((m) => m.userId !== callerId);
    // the last admin leaving hands the group to the longest-standing member
    const heir =
      me.role === 'admin' && meta.adminCount <= 1 && others.length
        ? [...others].sort((a, b) => (a.joinedAt < b.joinedAt ? -1 : a.joinedAt > b.joinedAt ? 1 : a.userId < b.userId ? -1 : 1))[0]!.userId
        : undefined;
    const ok = await deps.groups.removeMember(g, callerId, meta, me.role, heir);
    return ok ? { remaining: others.map((m) => m.userId), heir } : undefined;
  });
  if (!outcome.remaining.length) return;
  await announce(deps, g, outcome.remaining, callerId, { type: 'left', userId: callerId });
  if (outcome.heir) await announce(deps, g, outcome.remaining, callerId, { type: 'roleChanged', userId: outcome.heir, role: 'admin' });
}

export async function setMemberRole(deps: GroupChangeDeps, callerId: string, g: string, targetId: string, role: GroupRole) {
  const changed = await withRetries(async () => {
    const { meta, members } = await adminRoster(deps, g, callerId);
    const target = members.find((m) => m.userId === targetId);
    if (!target) throw new NotFound('No such member', 'member_not_found');
    if (target.role === role) return { members, changed: false };
    if (role === 'member' && meta.adminCount <= 1) throw new Conflict('A group needs an admin: make someone else admin first, or leave', 'last_admin');
    const ok = await deps.groups.setRole(g, targetId, role, meta, target.role);
    return ok ? { members, changed: true } : undefined;
  });
  if (changed.changed)
    await announce(
      deps,
      g,
      changed.members.map((m) => m.userId),
      callerId,
      { type: 'roleChanged', userId: targetId, role },
    );
}
