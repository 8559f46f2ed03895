// THE route manifest: deployment metadata per route (handler file, table grants, gateway throttle,
// secrets, memory, data files, @connections and queue rights) joined to the route's contract (contract/), which
// holds everything a client sees. The CDK stack, the local gateway and the API documents are all
// generated from this list; tests assert they agree. Lambda bundles never import this module: a
// handler imports only its own contract.
import type { Access, HttpContract, HttpMethod, WsContract } from '../contract/route.ts';
import type { TableId } from './tables.ts';
import { getHealth } from '../contract/system/get-health.ts';
import { requestOtp } from '../contract/auth/request-otp.ts';
import { register } from '../contract/auth/register.ts';
import { login } from '../contract/auth/login.ts';
import { refresh } from '../contract/auth/refresh.ts';
import { logout } from '../contract/auth/logout.ts';
import { logoutAll } from '../contract/auth/logout-all.ts';
import { resetPassword } from '../contract/auth/reset-password.ts';
import { changePassword } from '../contract/auth/change-password.ts';
import { getMe } from '../contract/users/get-me.ts';
import { updateMe } from '../contract/users/update-me.ts';
import { deleteMe } from '../contract/users/delete-me.ts';
import { searchUsers } from '../contract/users/search-users.ts';
import { createWsTicket } from '../contract/realtime/create-ticket.ts';
import { wsConnect } from '../contract/realtime/connect.ts';
import { wsDisconnect } from '../contract/realtime/disconnect.ts';
import { sendMessage } from '../contract/realtime/send-message.ts';
import { typing } from '../contract/realtime/typing.ts';
import { markRead } from '../contract/realtime/mark-read.ts';
import { delivered } from '../contract/realtime/delivered.ts';
import { wsDefault } from '../contract/realtime/default.ts';
import { putPublicKey } from '../contract/public-keys/put-public-key.ts';
import { getOwnPublicKey } from '../contract/public-keys/get-own-public-key.ts';
import { getUserPublicKey } from '../contract/public-keys/get-user-public-key.ts';
import { createConversation } from '../contract/conversations/create-conversation.ts';
import { listConversations } from '../contract/conversations/list-conversations.ts';
import { listMessages } from '../contract/conversations/list-messages.ts';
import { postMessage } from '../contract/conversations/post-message.ts';
import { syncMessages } from '../contract/conversations/sync-messages.ts';
import { createGroup } from '../contract/groups/create-group.ts';
import { getGroup } from '../contract/groups/get-group.ts';
import { renameGroup } from '../contract/groups/rename-group.ts';
import { inviteGroupMembers } from '../contract/groups/invite-group-members.ts';
import { removeGroupMember } from '../contract/groups/remove-group-member.ts';
import { setGroupMemberRole } from '../contract/groups/set-group-member-role.ts';
import { leaveGroup } from '../contract/groups/leave-group.ts';
import { listGroupInvitations } from '../contract/groups/list-group-invitations.ts';
import { acceptGroupInvitation } from '../contract/groups/accept-group-invitation.ts';
import { declineGroupInvitation } from '../contract/groups/decline-group-invitation.ts';
import { postGroupMessage } from '../contract/groups/post-group-message.ts';
import { blockUser } from '../contract/moderation/block-user.ts';
import { unblockUser } from '../contract/moderation/unblock-user.ts';
import { listBlocked } from '../contract/moderation/list-blocked.ts';
import { createReport } from '../contract/moderation/create-report.ts';
import { listMyReports } from '../contract/moderation/list-my-reports.ts';
import { adminListReports } from '../contract/admin/list-reports.ts';
import { adminGetReport } from '../contract/admin/get-report.ts';
import { adminResolveReport } from '../contract/admin/resolve-report.ts';
import { adminSuspendUser } from '../contract/admin/suspend-user.ts';
import { adminBanUser } from '../contract/admin/ban-user.ts';
import { adminRestoreUser } from '../contract/admin/restore-user.ts';
import { adminAudit } from '../contract/admin/list-audit.ts';
import { listDevices } from '../contract/devices/list-devices.ts';
import { renameDevice } from '../contract/devices/rename-device.ts';
import { revokeDevice } from '../contract/devices/revoke-device.ts';
import { createDeviceLink } from '../contract/devices/create-link.ts';
import { getDeviceLink } from '../contract/devices/get-link.ts';
import { approveDeviceLink } from '../contract/devices/approve-link.ts';
import { claimDeviceLink } from '../contract/devices/claim-link.ts';
import { createAttachment } from '../contract/attachments/create-attachment.ts';
import { completeAttachment } from '../contract/attachments/complete-attachment.ts';
import { getAttachment } from '../contract/attachments/get-attachment.ts';

export type { Access, HttpMethod };
export type Grant = 'read' | 'readwrite';
/** Secrets a function may read: the auth secret (signing keys, OTP pepper); the alarm webhook URL (lib/constructs/monitoring.ts). */
export type SecretId = 'auth' | 'alarmWebhook';
/**
 * Queues between functions: `otp` carries one-time codes from the routes that issue them to their
 * sender; `presence` carries a user's offline from $disconnect to the worker that announces it, one
 * grace later (per-message delay), unless the user came back.
 */
export type QueueId = 'otp' | 'presence';
/** Buckets: `attachments` holds the encrypted blobs of attachments (core/attachments.ts). */
export type BucketId = 'attachments';
/** Object rights on a bucket: s3:PutObject, s3:GetObject (HEAD too), s3:DeleteObject, s3:ListBucket; always scoped to `prefix`. */
export type BucketAction = 'put' | 'get' | 'delete' | 'list';
export interface BucketGrant {
  readonly actions: readonly BucketAction[];
  /** Key prefix the rights are limited to (object ARNs `<bucket>/<prefix>*`, ListBucket with an s3:prefix condition). */
  readonly prefix: string;
}
/** Where attachment blobs live in their bucket (functions/core/attachment-rules.ts blobKey). */
export const ATTACHMENT_PREFIX = 'attachments/';

export interface Throttle {
  /** Steady-state requests per second. */
  readonly rate: number;
  /** Bucket size: requests allowed at once. */
  readonly burst: number;
}

/** What deploying a route takes, beyond its contract. */
export interface Deployment {
  /** Path of the handler module from the project root; it exports `handler`. */
  readonly handler: string;
  readonly tables: Readonly<Partial<Record<TableId, Grant>>>;
  /** Object rights on buckets, like table grants: the bucket's name goes into the environment. */
  readonly buckets?: Readonly<Partial<Record<BucketId, BucketGrant>>>;
  readonly throttle: Throttle;
  readonly secrets?: readonly SecretId[];
  /** Needs execute-api:ManageConnections on the WebSocket API (pushes frames to sockets). */
  readonly manageConnections?: boolean;
  /** Sends OTP messages: ses:SendEmail for email, sns:Publish for SMS. */
  readonly notify?: boolean;
  /** Puts messages on these queues: sqs:SendMessage on them, and their URLs in the environment. */
  readonly enqueue?: readonly QueueId[];
  readonly memoryMb?: number;
  readonly timeoutSeconds?: number;
  /** Data files the code reads at run time, shipped next to the bundle (project-relative paths). */
  readonly files?: readonly string[];
}

export type HttpRoute<C extends HttpContract = HttpContract> = C & Deployment;

/** A Lambda REQUEST authorizer in front of $connect (the same module runs locally before $connect). */
export interface WsAuthorizer {
  readonly id: string;
  readonly handler: string;
  /** Query-string parameter that must be present (the API Gateway identity source). */
  readonly queryParameter: string;
  readonly tables: Readonly<Partial<Record<TableId, Grant>>>;
}

export type WsRoute<C extends WsContract = WsContract> = C & Deployment & { readonly authorizer?: WsAuthorizer };

export type Route = HttpRoute | WsRoute;

/**
 * Signed-in routes verify the access token against the user (status, tokens-valid-after) and the
 * session family (revoked?), so they always read those two tables and the signing secret.
 */
function http<const C extends HttpContract>(contract: C, d: Deployment): HttpRoute<C> {
  if (contract.access === 'public') return { ...contract, ...d };
  const tables = {
    ...d.tables,
    users: d.tables.users ?? 'read',
    sessions: d.tables.sessions ?? 'read',
    ...(contract.userLimit ? { ephemeral: 'readwrite' as const } : {}),
  };
  const secrets = [...new Set([...(d.secrets ?? []), 'auth' as const])];
  return { ...contract, ...d, tables, secrets };
}

/**
 * Signed-in WebSocket routes find the caller through the authorizer context (or the connection row
 * written at $connect) and check on every frame that the session is still alive (users, sessions).
 */
function ws<const C extends WsContract>(contract: C, d: Deployment & { authorizer?: WsAuthorizer }): WsRoute<C> {
  if (contract.access === 'public' || contract.routeKey === '$connect' || contract.routeKey === '$disconnect') return { ...contract, ...d };
  const t = d.tables;
  const limit = contract.userLimit ? { ephemeral: 'readwrite' as const } : {};
  return { ...contract, ...d, tables: { ...t, connections: t.connections ?? 'read', users: t.users ?? 'read', sessions: t.sessions ?? 'read', ...limit } };
}

/**
 * Gateway throttles from the capacity plan (docs/architecture.md, "Capacity plan"): 1M users, 100k
 * concurrent sockets, 30k of them chatting at peak at 4 messages a minute (2,000 msg/s), AWS's default
 * account quotas. A route throttle is a ceiling for ALL users together, so that one route cannot eat
 * the account's share; fairness between users is RATE_LIMITS' job (functions/core/config.ts).
 */
const capacity = {
  /** 2,000 msg/s at peak, 25% headroom. */
  sends: { rate: 2500, burst: 2500 },
  /** The HTTP send is a fallback for clients without a socket: a tenth of the socket path. */
  httpSends: { rate: 250, burst: 250 },
  /** At most one receipt per received message (clients send the newest id): as sends. */
  deliveredReceipts: { rate: 2500, burst: 2500 },
  /** Read positions move once per conversation looked at, not per message. */
  reads: { rate: 1000, burst: 1000 },
  /** About one typing frame per message sent; droppable, so no headroom: it never crowds out sends. */
  typing: { rate: 2000, burst: 2000 },
  /** Keep-alive pings (100k sockets / 300 s = 333/s) and unknown actions, 3× headroom. */
  keepAlive: { rate: 1000, burst: 1000 },
  /** AWS's default for new WebSocket connections (500/s per account and region), and a ticket each. */
  connects: { rate: 500, burst: 500 },
  /** Sockets that drop together (a network blip) disconnect faster than they can come back. */
  disconnects: { rate: 1000, burst: 1000 },
  /** One or two sync pages per reconnect, at the connect rate. */
  syncs: { rate: 1000, burst: 1000 },
  /** The inbox and a history page when an app opens, at the connect rate. */
  appOpens: { rate: 500, burst: 500 },
  /** 100k online clients with 15-minute access tokens refresh 111/s; a reconnect storm refreshes expired ones at once. */
  refreshes: { rate: 300, burst: 600 },
} as const satisfies Record<string, Throttle>;

/**
 * Stage-wide default throttle: API Gateway's default account quota (10,000 rps, burst 5,000, shared by
 * every API in the region). Every route sets its own; the local gateways use this as one bucket for
 * all routes, which is how the account quota behaves.
 */
export const stageThrottle: Throttle = { rate: 10000, burst: 5000 };

const authThrottle = { rate: 10, burst: 20 } as const;
/** scrypt N=2^17 wants 128 MiB; more memory also buys the CPU that keeps a hash near 100 ms. */
const hashingMemory = 1024;
/** Routes that check new passwords read the common-password set (functions/core/passwords.ts) on first use. */
const passwordFiles = ['functions/core/common-passwords.gcs'];
/** Moderator actions on accounts cut live sessions: tokens, families and sockets. */
const sanctionTables = { users: 'readwrite', sessions: 'readwrite', connections: 'readwrite', moderation: 'readwrite' } as const;

export const routes = {
  getHealth: http(getHealth, { handler: 'functions/http/system/get-health.ts', tables: { ephemeral: 'read' }, throttle: { rate: 20, burst: 40 } }),
  wsConnect: ws(wsConnect, {
    handler: 'functions/ws/connect.ts',
    authorizer: {
      id: 'WsTicketAuthorizer',
      handler: 'functions/ws/authorize.ts',
      queryParameter: 'ticket',
      tables: { ephemeral: 'readwrite', users: 'read', sessions: 'read' },
    },
    tables: { connections: 'readwrite', messages: 'read', users: 'read', sessions: 'read', moderation: 'read' },
    manageConnections: true,
    throttle: capacity.connects,
  }),
  wsDisconnect: ws(wsDisconnect, {
    handler: 'functions/ws/disconnect.ts',
    // the offline itself is the presence worker's: lastSeenAt and the fan-out need no grant here
    tables: { connections: 'readwrite' },
    manageConnections: true,
    enqueue: ['presence'],
    throttle: capacity.disconnects,
  }),
  sendMessage: ws(sendMessage, {
    handler: 'functions/ws/send-message.ts',
    // keys: a group send checks the wrapped keys against the members' current key versions
    // attachments: a message may share uploads (read, checked, recorded as shared)
    tables: { messages: 'readwrite', connections: 'readwrite', users: 'read', moderation: 'read', keys: 'read', attachments: 'readwrite' },
    manageConnections: true,
    throttle: capacity.sends,
  }),
  typing: ws(typing, {
    handler: 'functions/ws/typing.ts',
    tables: { messages: 'read', connections: 'readwrite', moderation: 'read' },
    manageConnections: true,
    throttle: capacity.typing,
  }),
  markRead: ws(markRead, {
    handler: 'functions/ws/mark-read.ts',
    tables: { messages: 'readwrite', connections: 'readwrite', moderation: 'read' },
    manageConnections: true,
    throttle: capacity.reads,
  }),
  delivered: ws(delivered, {
    handler: 'functions/ws/delivered.ts',
    tables: { messages: 'readwrite', connections: 'readwrite', moderation: 'read' },
    manageConnections: true,
    throttle: capacity.deliveredReceipts,
  }),
  wsDefault: ws(wsDefault, { handler: 'functions/ws/default.ts', tables: {}, manageConnections: true, throttle: capacity.keepAlive }),
  requestOtp: http(requestOtp, {
    handler: 'functions/http/auth/request-otp.ts',
    tables: { users: 'read', ephemeral: 'readwrite' },
    secrets: ['auth'],
    enqueue: ['otp'],
    throttle: { rate: 5, burst: 10 },
  }),
  register: http(register, {
    handler: 'functions/http/auth/register.ts',
    tables: { users: 'readwrite', sessions: 'readwrite', ephemeral: 'readwrite' },
    secrets: ['auth'],
    memoryMb: hashingMemory,
    files: passwordFiles,
    throttle: { rate: 5, burst: 10 },
  }),
  login: http(login, {
    handler: 'functions/http/auth/login.ts',
    tables: { users: 'read', sessions: 'readwrite', ephemeral: 'readwrite' },
    secrets: ['auth'],
    enqueue: ['otp'],
    memoryMb: hashingMemory,
    throttle: authThrottle,
  }),
  refresh: http(refresh, {
    handler: 'functions/http/auth/refresh.ts',
    tables: { users: 'read', sessions: 'readwrite', ephemeral: 'readwrite', connections: 'readwrite' },
    manageConnections: true,
    secrets: ['auth'],
    throttle: capacity.refreshes,
  }),
  logout: http(logout, {
    handler: 'functions/http/auth/logout.ts',
    tables: { sessions: 'readwrite', connections: 'readwrite' },
    manageConnections: true,
    throttle: authThrottle,
  }),
  logoutAll: http(logoutAll, {
    handler: 'functions/http/auth/logout-all.ts',
    tables: { users: 'readwrite', sessions: 'readwrite', connections: 'readwrite' },
    manageConnections: true,
    throttle: authThrottle,
  }),
  resetPassword: http(resetPassword, {
    handler: 'functions/http/auth/reset-password.ts',
    tables: { users: 'readwrite', sessions: 'readwrite', ephemeral: 'readwrite', connections: 'readwrite' },
    secrets: ['auth'],
    manageConnections: true,
    memoryMb: hashingMemory,
    files: passwordFiles,
    throttle: { rate: 5, burst: 10 },
  }),
  changePassword: http(changePassword, {
    handler: 'functions/http/auth/change-password.ts',
    tables: { users: 'readwrite', sessions: 'readwrite', ephemeral: 'readwrite', connections: 'readwrite' },
    manageConnections: true,
    memoryMb: hashingMemory,
    files: passwordFiles,
    throttle: authThrottle,
  }),
  getMe: http(getMe, { handler: 'functions/http/users/get-me.ts', tables: {}, throttle: { rate: 50, burst: 100 } }),
  // turning discovery on and deletion take a fresh proof: a password (hashing memory) or a code, counted like logins (ephemeral)
  updateMe: http(updateMe, {
    handler: 'functions/http/users/update-me.ts',
    tables: { users: 'readwrite', ephemeral: 'readwrite' },
    memoryMb: hashingMemory,
    throttle: { rate: 20, burst: 40 },
  }),
  deleteMe: http(deleteMe, {
    handler: 'functions/http/users/delete-me.ts',
    // attachments: one purge marker; the sweeper deletes the account's blobs (it alone has S3 rights)
    tables: { users: 'readwrite', sessions: 'readwrite', keys: 'readwrite', connections: 'readwrite', ephemeral: 'readwrite', attachments: 'readwrite' },
    manageConnections: true,
    memoryMb: hashingMemory,
    throttle: authThrottle,
  }),
  createWsTicket: http(createWsTicket, {
    handler: 'functions/http/realtime/create-ticket.ts',
    tables: { ephemeral: 'readwrite' },
    throttle: capacity.connects,
  }),
  putPublicKey: http(putPublicKey, {
    handler: 'functions/http/public-keys/put-public-key.ts',
    tables: { keys: 'readwrite', messages: 'read', connections: 'readwrite', moderation: 'read' },
    manageConnections: true,
    throttle: { rate: 5, burst: 10 },
  }),
  getOwnPublicKey: http(getOwnPublicKey, {
    handler: 'functions/http/public-keys/get-own-public-key.ts',
    tables: { keys: 'read' },
    throttle: { rate: 50, burst: 100 },
  }),
  getUserPublicKey: http(getUserPublicKey, {
    handler: 'functions/http/public-keys/get-user-public-key.ts',
    tables: { keys: 'read' },
    throttle: { rate: 50, burst: 100 },
  }),
  searchUsers: http(searchUsers, { handler: 'functions/http/users/search-users.ts', tables: { users: 'read' }, throttle: { rate: 20, burst: 40 } }),
  createConversation: http(createConversation, {
    handler: 'functions/http/conversations/create-conversation.ts',
    tables: { users: 'read', messages: 'readwrite', moderation: 'read', ephemeral: 'readwrite' },
    throttle: { rate: 20, burst: 40 },
  }),
  listConversations: http(listConversations, {
    handler: 'functions/http/conversations/list-conversations.ts',
    tables: { users: 'read', messages: 'read' },
    throttle: capacity.appOpens,
  }),
  listMessages: http(listMessages, {
    handler: 'functions/http/conversations/list-messages.ts',
    tables: { messages: 'read' },
    throttle: capacity.appOpens,
  }),
  postMessage: http(postMessage, {
    handler: 'functions/http/conversations/post-message.ts',
    tables: { messages: 'readwrite', connections: 'readwrite', users: 'read', moderation: 'read', attachments: 'readwrite' },
    manageConnections: true,
    throttle: capacity.httpSends,
  }),
  syncMessages: http(syncMessages, {
    handler: 'functions/http/conversations/sync-messages.ts',
    tables: { messages: 'read' },
    throttle: capacity.syncs,
  }),
  // groups: membership changes push groupUpdated (connections) and write system entries (messages)
  createGroup: http(createGroup, {
    handler: 'functions/http/groups/create-group.ts',
    tables: { users: 'read', messages: 'readwrite', moderation: 'read' },
    throttle: { rate: 20, burst: 40 },
  }),
  getGroup: http(getGroup, {
    handler: 'functions/http/groups/get-group.ts',
    tables: { users: 'read', messages: 'read', keys: 'read' },
    throttle: capacity.appOpens,
  }),
  renameGroup: http(renameGroup, {
    handler: 'functions/http/groups/rename-group.ts',
    tables: { messages: 'readwrite', connections: 'readwrite' },
    manageConnections: true,
    throttle: { rate: 20, burst: 40 },
  }),
  inviteGroupMembers: http(inviteGroupMembers, {
    handler: 'functions/http/groups/invite-group-members.ts',
    tables: { users: 'read', messages: 'readwrite', moderation: 'read' },
    throttle: { rate: 20, burst: 40 },
  }),
  removeGroupMember: http(removeGroupMember, {
    handler: 'functions/http/groups/remove-group-member.ts',
    tables: { messages: 'readwrite', connections: 'readwrite' },
    manageConnections: true,
    throttle: { rate: 20, burst: 40 },
  }),
  setGroupMemberRole: http(setGroupMemberRole, {
    handler: 'functions/http/groups/set-group-member-role.ts',
    tables: { messages: 'readwrite', connections: 'readwrite' },
    manageConnections: true,
    throttle: { rate: 20, burst: 40 },
  }),
  leaveGroup: http(leaveGroup, {
    handler: 'functions/http/groups/leave-group.ts',
    tables: { messages: 'readwrite', connections: 'readwrite' },
    manageConnections: true,
    throttle: { rate: 20, burst: 40 },
  }),
  listGroupInvitations: http(listGroupInvitations, {
    handler: 'functions/http/groups/list-group-invitations.ts',
    tables: { messages: 'read' },
    throttle: { rate: 50, burst: 100 },
  }),
  acceptGroupInvitation: http(acceptGroupInvitation, {
    handler: 'functions/http/groups/accept-group-invitation.ts',
    tables: { messages: 'readwrite', connections: 'readwrite' },
    manageConnections: true,
    throttle: { rate: 20, burst: 40 },
  }),
  declineGroupInvitation: http(declineGroupInvitation, {
    handler: 'functions/http/groups/decline-group-invitation.ts',
    tables: { messages: 'readwrite' },
    throttle: { rate: 20, burst: 40 },
  }),
  postGroupMessage: http(postGroupMessage, {
    handler: 'functions/http/groups/post-group-message.ts',
    tables: { messages: 'readwrite', connections: 'readwrite', users: 'read', moderation: 'read', keys: 'read', attachments: 'readwrite' },
    manageConnections: true,
    throttle: capacity.httpSends,
  }),
  blockUser: http(blockUser, {
    handler: 'functions/http/moderation/block-user.ts',
    tables: { users: 'read', moderation: 'readwrite' },
    throttle: { rate: 20, burst: 40 },
  }),
  unblockUser: http(unblockUser, {
    handler: 'functions/http/moderation/unblock-user.ts',
    tables: { moderation: 'readwrite' },
    throttle: { rate: 20, burst: 40 },
  }),
  listBlocked: http(listBlocked, {
    handler: 'functions/http/moderation/list-blocked.ts',
    tables: { users: 'read', moderation: 'read' },
    throttle: { rate: 20, burst: 40 },
  }),
  createReport: http(createReport, {
    handler: 'functions/http/moderation/create-report.ts',
    tables: { users: 'readwrite', messages: 'read', moderation: 'readwrite', ephemeral: 'readwrite' },
    throttle: { rate: 10, burst: 20 },
  }),
  listMyReports: http(listMyReports, {
    handler: 'functions/http/moderation/list-my-reports.ts',
    tables: { moderation: 'read' },
    throttle: { rate: 20, burst: 40 },
  }),
  adminListReports: http(adminListReports, {
    handler: 'functions/http/admin/list-reports.ts',
    tables: { moderation: 'read', users: 'read' },
    throttle: { rate: 20, burst: 40 },
  }),
  adminGetReport: http(adminGetReport, {
    handler: 'functions/http/admin/get-report.ts',
    tables: { moderation: 'readwrite' },
    throttle: { rate: 20, burst: 40 },
  }),
  adminResolveReport: http(adminResolveReport, {
    handler: 'functions/http/admin/resolve-report.ts',
    tables: sanctionTables,
    manageConnections: true,
    throttle: { rate: 10, burst: 20 },
  }),
  adminSuspendUser: http(adminSuspendUser, {
    handler: 'functions/http/admin/suspend-user.ts',
    tables: sanctionTables,
    manageConnections: true,
    throttle: { rate: 10, burst: 20 },
  }),
  adminBanUser: http(adminBanUser, {
    handler: 'functions/http/admin/ban-user.ts',
    tables: sanctionTables,
    manageConnections: true,
    throttle: { rate: 10, burst: 20 },
  }),
  adminRestoreUser: http(adminRestoreUser, { handler: 'functions/http/admin/restore-user.ts', tables: sanctionTables, throttle: { rate: 10, burst: 20 } }),
  adminAudit: http(adminAudit, { handler: 'functions/http/admin/list-audit.ts', tables: { moderation: 'read' }, throttle: { rate: 10, burst: 20 } }),
  // devices live beside their sessions (sessions table); link requests are ephemeral (docs/devices.md)
  listDevices: http(listDevices, { handler: 'functions/http/devices/list-devices.ts', tables: {}, throttle: { rate: 20, burst: 40 } }),
  renameDevice: http(renameDevice, {
    handler: 'functions/http/devices/rename-device.ts',
    tables: { sessions: 'readwrite' },
    throttle: { rate: 10, burst: 20 },
  }),
  // a fresh proof (password: hashing memory; counted like logins: ephemeral), then the device's session and sockets end
  revokeDevice: http(revokeDevice, {
    handler: 'functions/http/devices/revoke-device.ts',
    tables: { sessions: 'readwrite', connections: 'readwrite', ephemeral: 'readwrite' },
    manageConnections: true,
    memoryMb: hashingMemory,
    throttle: authThrottle,
  }),
  createDeviceLink: http(createDeviceLink, {
    handler: 'functions/http/devices/create-link.ts',
    tables: { ephemeral: 'readwrite' },
    throttle: { rate: 5, burst: 10 },
  }),
  getDeviceLink: http(getDeviceLink, { handler: 'functions/http/devices/get-link.ts', tables: { ephemeral: 'read' }, throttle: { rate: 10, burst: 20 } }),
  approveDeviceLink: http(approveDeviceLink, {
    handler: 'functions/http/devices/approve-link.ts',
    tables: { ephemeral: 'readwrite' },
    memoryMb: hashingMemory,
    throttle: { rate: 5, burst: 10 },
  }),
  // signs the new device in (a session, the auth secret) and tells the account's sockets (deviceLinked)
  claimDeviceLink: http(claimDeviceLink, {
    handler: 'functions/http/devices/claim-link.ts',
    tables: { ephemeral: 'readwrite', users: 'read', sessions: 'readwrite', connections: 'readwrite' },
    secrets: ['auth'],
    manageConnections: true,
    throttle: { rate: 20, burst: 40 },
  }),
  // attachments: records in their table, membership and visibility read from messages and users, blobs in S3
  createAttachment: http(createAttachment, {
    handler: 'functions/http/attachments/create-attachment.ts',
    tables: { attachments: 'readwrite', messages: 'read' },
    buckets: { attachments: { actions: ['put'], prefix: ATTACHMENT_PREFIX } },
    throttle: { rate: 50, burst: 100 },
  }),
  completeAttachment: http(completeAttachment, {
    handler: 'functions/http/attachments/complete-attachment.ts',
    tables: { attachments: 'readwrite' },
    buckets: { attachments: { actions: ['get'], prefix: ATTACHMENT_PREFIX } },
    throttle: { rate: 50, burst: 100 },
  }),
  getAttachment: http(getAttachment, {
    handler: 'functions/http/attachments/get-attachment.ts',
    tables: { attachments: 'read', messages: 'read' },
    buckets: { attachments: { actions: ['get'], prefix: ATTACHMENT_PREFIX } },
    throttle: { rate: 200, burst: 400 },
  }),
} as const satisfies Record<string, Route>;

/** A function behind a queue instead of the gateway (an SQS event source, partial batch failures). */
export interface Worker {
  readonly id: string;
  readonly handler: string;
  readonly summary: string;
  /** The queue it consumes; a message it fails maxReceiveCount times moves to the queue's dead-letter queue. */
  readonly queue: QueueId;
  readonly tables: Readonly<Partial<Record<TableId, Grant>>>;
  readonly notify?: boolean;
  /** Pushes frames to sockets: execute-api:ManageConnections on the WebSocket stage. */
  readonly manageConnections?: boolean;
  readonly memoryMb?: number;
  readonly timeoutSeconds?: number;
}

export const workers = {
  otpDelivery: {
    id: 'OtpDelivery',
    handler: 'functions/queue/deliver-otp.ts',
    summary: 'Delivers queued one-time codes by SES (email) or SNS (SMS); failed sends are retried, then dead-lettered',
    queue: 'otp',
    tables: {},
    notify: true,
    timeoutSeconds: 10,
  },
  presenceOffline: {
    id: 'PresenceOffline',
    handler: 'functions/queue/settle-offline.ts',
    summary: "Announces a user's offline one grace after their last socket closed, unless they came back (a conditional claim on the socket set)",
    queue: 'presence',
    // the socket set's claim, lastSeenAt, and the presence fan-out (partners, blocks, their sockets)
    tables: { connections: 'readwrite', users: 'readwrite', messages: 'read', moderation: 'read' },
    manageConnections: true,
    timeoutSeconds: 30,
  },
} as const satisfies Record<string, Worker>;

export const allWorkers: readonly Worker[] = Object.values(workers);

/** A function run on a schedule (an EventBridge rule in AWS; a timer in the laptop runtime). */
export interface ScheduledJob {
  readonly id: string;
  readonly handler: string;
  readonly summary: string;
  readonly everyMinutes: number;
  readonly tables: Readonly<Partial<Record<TableId, Grant>>>;
  readonly buckets?: Readonly<Partial<Record<BucketId, BucketGrant>>>;
  readonly memoryMb?: number;
  readonly timeoutSeconds?: number;
}

export const scheduledJobs = {
  attachmentSweeper: {
    id: 'AttachmentSweeper',
    handler: 'functions/schedule/sweep-attachments.ts',
    summary: "Deletes never-shared attachment uploads inside 24 hours of their start, and deleted accounts' blobs and records",
    // every 15 minutes: an unshared upload goes 20-20.25 hours after it began; an account's blobs within 15 minutes of its deletion
    everyMinutes: 15,
    tables: { attachments: 'readwrite' },
    buckets: { attachments: { actions: ['delete', 'list'], prefix: ATTACHMENT_PREFIX } },
    timeoutSeconds: 300,
  },
} as const satisfies Record<string, ScheduledJob>;

export const allScheduledJobs: readonly ScheduledJob[] = Object.values(scheduledJobs);

/** How a queue is consumed: attempts before dead-lettering, and how long a message stays useful. */
export const queueSettings: Readonly<Record<QueueId, { readonly maxReceiveCount: number; readonly retentionMinutes: number }>> = {
  // a code lives 5 minutes (OTP_TTL_SECONDS default): an hour of retention covers any override
  otp: { maxReceiveCount: 3, retentionMinutes: 60 },
  // an offline is late after minutes already (the grace is at most 15): an hour covers the retries
  presence: { maxReceiveCount: 3, retentionMinutes: 60 },
};

export const allRoutes: readonly Route[] = Object.values(routes);
export const httpRoutes: readonly HttpRoute[] = allRoutes.filter((r): r is HttpRoute => r.kind === 'http');
export const wsRoutes: readonly WsRoute[] = allRoutes.filter((r): r is WsRoute => r.kind === 'ws');

/** The API Gateway route key of an HTTP route: "GET /api/health". */
export function httpRouteKey(r: HttpRoute): string {
  return `${r.method} ${r.path}`;
}
