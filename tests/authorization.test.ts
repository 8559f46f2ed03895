// The authorization matrix: every route that takes an object id (a userId, conversationId, messageId,
// reportId or a cursor, in the path, the query, the body or a frame) is tried with another user's
// object. The answer must be 403 or 404 (400 invalid_cursor for another user's cursor), or, where the
// route exists to act on another user (open a conversation, block, report, send) or to read something
// public (a public key), exactly its documented answer; and nothing else changes: every table is
// compared before and after (rate-limit counters excepted), and the victims' sockets get no frame.
// The id-taking routes and fields are read from the manifest and the contracts: a route or field
// without a case here fails the suite. Moderator and admin routes are tried with a plain user (403),
// admin-only routes with a moderator (403), and moderators acting on staff or on their own case (403).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import nacl from 'tweetnacl';
import { idPatterns } from '../contract/common.ts';
import type { Schema } from '../contract/route.ts';
import type { Runtime } from '../local/runtime.ts';
import { allRoutes, httpRouteKey, httpRoutes, type Route } from '../lib/routes.ts';
import { request, startTestRuntime, type HttpReply, type TestSocket } from './support/runtime.ts';
import { bearer, connectAs, signUp, type Account } from './support/identity.ts';
import { jsonSchemaOf, pathParams } from './fuzz/cases.ts';
import type { JsonSchema } from './fuzz/arbitraries.ts';
import { grantRole, showChanges, snapshot, snapshotDiff, type Change } from './fuzz/harness.ts';

// ---- which routes take ids (from the contracts) -------------------------------------------------

const idName = /(?:Id|Ids)$|^(?:cursor|before|after|upToMessageId)$/;
const idSources = new Set(Object.values(idPatterns).map((p) => `^${p}$`));
const isIdSchema = (s: JsonSchema): boolean =>
  s.format === 'uuid' || (s.pattern !== undefined && idSources.has(s.pattern)) || (s.items !== undefined && isIdSchema(s.items));

function idFieldsOf(schema: JsonSchema, prefix: string, out: string[]): void {
  for (const option of schema.oneOf ?? schema.anyOf ?? []) idFieldsOf(option, prefix, out);
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const at = `${prefix}.${name}`;
    if ((idName.test(name) || isIdSchema(prop)) && !out.includes(at)) out.push(at);
    idFieldsOf(prop, at, out);
    if (prop.items) idFieldsOf(prop.items, `${at}[]`, out);
  }
}

/** The id-taking inputs of a route: path parameters, and body, query or frame fields named or shaped like ids. */
function idFields(route: Route): string[] {
  const out: string[] = [];
  const walk = (schema: Schema | undefined, prefix: string) => schema && idFieldsOf(jsonSchemaOf(schema), prefix, out);
  if (route.kind === 'http') {
    for (const p of pathParams(route)) out.push(`path.${p}`);
    walk(route.input.query, 'query');
    walk(route.input.body, 'body');
  } else if (route.routeKey !== '$connect') {
    walk(route.input, 'frame');
  }
  return out;
}

// ---- the world the cases run in -------------------------------------------------------------------

let rt: Runtime;
/** victim, her partner, the attacker, two bystanders, two moderators, an admin. */
let v: Account, p: Account, a: Account, q1: Account, q2: Account, m: Account, m2: Account, x: Account;
const f = {
  convVP: '',
  convVQ: '',
  convAQ: '',
  /** V's messages to P and P's to V (ids and V's idempotency keys). */
  vpMessages: [] as { messageId: string; clientMessageId: string; senderId: string }[],
  reportVP: '',
  reportAboutM: '',
  reportAboutM2: '',
  cursors: { inbox: '', blocked: '', myReports: '', queue: '', audit: '', invitations: '' },
  /** V's device, and a link V approved for a new device (not claimed yet). */
  deviceV: '',
  linkV: '',
  /** V's uploads in V-P: one shared with P by a message, one finished but unshared, one never finished. */
  attShared: '',
  attUploaded: '',
  attPending: '',
  /** V's group with P; the attacker's own group (A its only member); P's group V is invited to. */
  groupVP: '',
  groupA: '',
  groupInvitingV: '',
};
/** Victims' sockets, every frame recorded; the attacker's socket. */
const watched = new Map<string, { socket: TestSocket; frames: any[] }>();
let attackerSocket: TestSocket;
/** The attacker's published box key (its group sends wrap the message key for itself). */
let attackerKey: nacl.BoxKeyPair;

const call = (who: Account, method: string, path: string, body?: unknown) =>
  request(rt.httpUrl, method, path, { headers: bearer(who.accessToken), ...(body === undefined ? {} : { body }) });

function cipher(clientMessageId: string = randomUUID()) {
  return {
    clientMessageId,
    ciphertext: Buffer.from(nacl.randomBytes(48)).toString('base64'),
    nonce: Buffer.from(nacl.randomBytes(24)).toString('base64'),
    senderKeyVersion: 1,
    recipientKeyVersion: 1,
  };
}

async function ok(reply: Promise<HttpReply>, status: number | number[] = [200, 201]): Promise<any> {
  const r = await reply;
  assert.ok((Array.isArray(status) ? status : [status]).includes(r.status), `setup: ${r.status} ${r.text}`);
  return r.json;
}

async function watch(who: Account): Promise<void> {
  const socket = await connectAs(rt, who.accessToken);
  const entry = { socket, frames: [] as any[] };
  socket.ws.on('message', (data) => entry.frames.push(JSON.parse(data.toString())));
  watched.set(who.userId, entry);
}

/**
 * Frames the victims received since the last call, pongs aside. A ping answered on each socket is the
 * barrier: pushes made while a request ran were written to the socket before its answer came back,
 * so they arrive before the pong.
 */
async function victimFrames(): Promise<{ to: string; frame: any }[]> {
  const got: { to: string; frame: any }[] = [];
  await Promise.all(
    [...watched].map(async ([userId, w]) => {
      w.socket.send({ action: 'ping' });
      await w.socket.next((fr) => fr.type === 'pong');
      for (const frame of w.frames.splice(0)) if (frame.type !== 'pong') got.push({ to: userId, frame });
    }),
  );
  return got;
}

/** The handlers' logger (imported once the runtime has set LOG_LEVEL for them). */
let logger: (typeof import('../functions/middleware/logger.ts'))['logger'];

/** Resolves once a WebSocket route has finished handling a frame (its one log line), whatever the log level. */
function handled(routeId: string): Promise<void> {
  return new Promise((resolve) => {
    const info = logger.info;
    logger.info = (message, fields) => {
      if (message === 'ws event' && fields?.route === routeId) {
        logger.info = info;
        resolve();
      }
      info.call(logger, message, fields);
    };
  });
}

/** Sends a frame from the attacker's socket and returns the answer frame (error or ack). */
async function frame(body: Record<string, unknown>): Promise<any> {
  attackerSocket.send(body);
  return attackerSocket.next((fr) => fr.type === 'error' || fr.type === 'ack');
}

before(async () => {
  rt = await startTestRuntime();
  logger = (await import('../functions/middleware/logger.ts')).logger;
  const names = ['Vera', 'Paul', 'Mallory', 'Quinn', 'Quincy', 'Mia', 'Milo', 'Xena'];
  const accounts = await Promise.all(names.map((displayName) => signUp(rt, { displayName })));
  [v, p, a, q1, q2, m, m2, x] = accounts as [Account, Account, Account, Account, Account, Account, Account, Account];
  const grants = Promise.all([grantRole(m, 'moderator'), grantRole(m2, 'moderator'), grantRole(x, 'admin')]);
  // V publishes keys; V and P talk, V also talks to Q1 (two inbox entries: a cursor), A talks to Q1
  const identity = nacl.sign.keyPair();
  const box = nacl.box.keyPair();
  const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
  const attackerBox = nacl.box.keyPair();
  attackerKey = attackerBox;
  await ok(
    call(a, 'PUT', '/api/users/public-key', {
      identityKey: b64(identity.publicKey),
      publicKey: b64(attackerBox.publicKey),
      signature: b64(nacl.sign.detached(attackerBox.publicKey, identity.secretKey)),
    }),
  );
  const open = async (from: Account, to: Account) => (await ok(call(from, 'POST', '/api/conversations', { userId: to.userId }))).conversationId as string;
  [f.convVP, f.convVQ, f.convAQ] = await Promise.all([
    open(v, p),
    open(v, q1),
    open(a, q1),
    open(p, v),
    ok(
      call(v, 'PUT', '/api/users/public-key', {
        identityKey: b64(identity.publicKey),
        publicKey: b64(box.publicKey),
        signature: b64(nacl.sign.detached(box.publicKey, identity.secretKey)),
      }),
    ),
  ]);
  const post = async (from: Account, conv: string) => {
    const body = cipher();
    const ack = await ok(call(from, 'POST', `/api/conversations/${conv}/messages`, body));
    return { messageId: ack.messageId as string, clientMessageId: body.clientMessageId, senderId: from.userId };
  };
  const sent = await Promise.all([post(v, f.convVP), post(v, f.convVP), post(p, f.convVP), post(v, f.convVQ), post(a, f.convAQ)]);
  f.vpMessages = sent.slice(0, 3);
  // V blocks Q2 and the attacker (two entries: a cursor); V reports P (citing P's message), Q1 and both moderators
  const report = async (target: Account, extra: Record<string, unknown> = {}) =>
    (await ok(call(v, 'POST', '/api/reports', { targetUserId: target.userId, reason: 'other', ...extra }))).reportId as string;
  [f.reportVP, , f.reportAboutM, f.reportAboutM2] = await Promise.all([
    report(p, { messageIds: [pMessage().messageId] }),
    report(q1),
    report(m),
    report(m2),
    ok(call(v, 'POST', `/api/users/${q2.userId}/block`)),
    ok(call(v, 'POST', `/api/users/${a.userId}/block`)),
  ]);
  await grants;
  // groups: V's with P (P accepted), the attacker's own, and two of P's that invite V (an invitation cursor)
  const group = async (who: Account, memberIds: string[]) =>
    (await ok(call(who, 'POST', '/api/groups', { name: 'Group', memberIds }))).conversationId as string;
  [f.groupVP, f.groupA, f.groupInvitingV] = await Promise.all([group(v, [p.userId]), group(a, []), group(p, [v.userId]), group(p, [v.userId])]);
  await ok(call(p, 'POST', `/api/groups/${f.groupVP}/invitations/accept`));
  // one page of each of their lists, for its cursor
  const cursorOf = async (who: Account, path: string) => {
    const page = await ok(call(who, 'GET', path));
    assert.ok(page.cursor, `setup: ${path} gave no cursor`);
    return page.cursor as string;
  };
  const [inbox, blocked, myReports, queue, audit, invitations] = await Promise.all([
    cursorOf(v, '/api/conversations?limit=1'),
    cursorOf(v, '/api/users/blocked?limit=1'),
    cursorOf(v, '/api/reports/mine?limit=1'),
    cursorOf(m, '/api/admin/reports?limit=1'),
    cursorOf(x, '/api/admin/audit?limit=1'),
    cursorOf(v, '/api/groups/invitations?limit=1'),
  ]);
  f.cursors = { inbox, blocked, myReports, queue, audit, invitations };
  // V's device, and a link request V approved (its secret stays with V's new device)
  f.deviceV = (await ok(call(v, 'GET', '/api/devices'))).devices[0].deviceId;
  const linkKey = nacl.box.keyPair();
  f.linkV = (await ok(request(rt.httpUrl, 'POST', '/api/devices/links', { body: { publicKey: b64(linkKey.publicKey), deviceName: 'Vera phone' } }))).linkId;
  const sealed = nacl.box(nacl.randomBytes(96), new Uint8Array(24), linkKey.publicKey, nacl.box.keyPair().secretKey);
  await ok(
    call(v, 'POST', `/api/devices/links/${f.linkV}/approve`, {
      ciphertext: b64(sealed),
      nonce: b64(new Uint8Array(24)),
      publicKey: b64(nacl.box.keyPair().publicKey),
      password: v.password,
    }),
    204,
  );
  // V's attachments in V-P: the bytes through the local S3, one shared by a message to P
  const upload = async (complete: boolean) => {
    const start = await ok(call(v, 'POST', '/api/attachments', { size: 16, conversationId: f.convVP }), 201);
    const put = await fetch(start.upload.url, { method: 'PUT', headers: start.upload.headers, body: new Uint8Array(16) });
    assert.equal(put.status, 200, 'setup: upload');
    if (complete) await ok(call(v, 'POST', `/api/attachments/${start.attachmentId}/complete`), 200);
    return start.attachmentId as string;
  };
  [f.attShared, f.attUploaded, f.attPending] = await Promise.all([upload(true), upload(true), upload(false)]);
  await ok(call(v, 'POST', `/api/conversations/${f.convVP}/messages`, { ...cipher(), attachmentIds: [f.attShared] }), 201);
  await Promise.all([watch(v), watch(p), connectAs(rt, a.accessToken).then((s) => (attackerSocket = s))]);
  await victimFrames(); // presence and the like, from setting up
  last = await snapshot(rt);
});

after(async () => {
  await Promise.all([attackerSocket, ...[...watched.values()].map((w) => w.socket)].map((s) => s?.close().catch(() => undefined)));
  await rt?.stop();
});

// ---- the matrix -----------------------------------------------------------------------------------

type Diff = Change;

interface Case {
  name: string;
  /** Route id (the contract's id). */
  route: string;
  /** The id-taking inputs the case aims at another user's object, as idFields() names them. */
  fields: string[];
  /** Sends the request and checks the answer. */
  run(): Promise<void>;
  /** Writes the documented answer makes (every other change fails); none by default. */
  writes?: (d: Diff) => boolean;
}

const pk = (d: Diff) => String(d.item.pk ?? '');
const sk = (d: Diff) => String(d.item.sk ?? '');

function expectStatus(r: HttpReply, allowed: number[], code?: string): void {
  assert.ok(allowed.includes(r.status), `expected ${allowed.join('/')}, got ${r.status} ${r.text}`);
  if (code) assert.equal(r.json?.error?.code, code, r.text);
}

const denied = (r: HttpReply) => expectStatus(r, [403, 404]);
const forbidden = (code?: string) => (r: HttpReply) => expectStatus(r, [403], code);

/** A V↔P message V sent (its id and idempotency key) and one P sent. */
const vMessage = () => f.vpMessages.find((msg) => msg.senderId === v.userId)!;
const pMessage = () => f.vpMessages.find((msg) => msg.senderId === p.userId)!;
const vpIds = () => new Set(f.vpMessages.map((msg) => msg.messageId));

/** Writes to the messages table naming neither victim (read when the case runs, after setup). */
const namesNoVictim = (d: Diff) => d.table === 'messages' && ![v, p].some((u) => JSON.stringify(d.item).includes(u.userId));

/** A group message from the attacker to its own group (itself the only member), key wrapped for itself. */
function groupCipher(clientMessageId: string = randomUUID()) {
  const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
  const n = nacl.randomBytes(24);
  const { recipientKeyVersion: _r, ...rest } = cipher(clientMessageId);
  const wrappedKey = b64(nacl.box(nacl.randomBytes(32), n, attackerKey.publicKey, attackerKey.secretKey));
  return { ...rest, keys: { [a.userId]: { wrappedKey, nonce: b64(n), keyVersion: 1 } } };
}

const attachmentNotFound = (r: HttpReply) => expectStatus(r, [404], 'attachment_not_found');

/** Another user's attachments: never started into, completed, fetched or shared by the attacker. */
const attachmentCases = (): Case[] => [
  {
    name: "an upload into another user's conversation is not found (no record, no quota spent)",
    route: 'CreateAttachment',
    fields: ['body.conversationId'],
    run: async () => expectStatus(await call(a, 'POST', '/api/attachments', { size: 10, conversationId: f.convVP }), [404], 'conversation_not_found'),
  },
  {
    name: "completing another user's upload is not found",
    route: 'CompleteAttachment',
    fields: ['path.attachmentId'],
    run: async () => attachmentNotFound(await call(a, 'POST', `/api/attachments/${f.attPending}/complete`)),
  },
  {
    name: "another user's attachment, shared or not, gets no link",
    route: 'GetAttachment',
    fields: ['path.attachmentId'],
    async run() {
      attachmentNotFound(await call(a, 'GET', `/api/attachments/${f.attShared}`));
      attachmentNotFound(await call(a, 'GET', `/api/attachments/${f.attUploaded}`));
    },
  },
  {
    name: "sharing another user's attachment in the caller's own conversation is not found, and stores nothing",
    route: 'PostMessage',
    fields: ['body.attachmentIds'],
    async run() {
      for (const id of [f.attShared, f.attUploaded])
        attachmentNotFound(await call(a, 'POST', `/api/conversations/${f.convAQ}/messages`, { ...cipher(), attachmentIds: [id] }));
    },
  },
  {
    name: "sharing another user's attachment in the caller's own group is not found",
    route: 'PostGroupMessage',
    fields: ['body.attachmentIds'],
    run: async () => attachmentNotFound(await call(a, 'POST', `/api/groups/${f.groupA}/messages`, { ...groupCipher(), attachmentIds: [f.attUploaded] })),
  },
  {
    name: "sharing another user's attachment over the socket is an error frame, and stores nothing",
    route: 'WsSendMessage',
    fields: ['frame.attachmentIds'],
    async run() {
      const sent = { action: 'sendMessage', to: q1.userId, ...cipher(), attachmentIds: [f.attShared] };
      const r = await frame(sent);
      assert.equal(r.type, 'error', JSON.stringify(r));
      assert.equal(r.code, 'attachment_not_found');
      // the error names the send it answers, so a client with several in flight knows which one failed
      assert.equal(r.clientMessageId, sent.clientMessageId);
      assert.equal(r.action, 'sendMessage');
    },
  },
];

const groupCases = (): Case[] => [
  {
    name: 'another group is not found, however it is read or changed',
    route: 'GetGroup',
    fields: ['path.conversationId'],
    run: async () => denied(await call(a, 'GET', `/api/groups/${f.groupVP}`)),
  },
  {
    name: 'renaming another group is not found',
    route: 'RenameGroup',
    fields: ['path.conversationId'],
    run: async () => denied(await call(a, 'PATCH', `/api/groups/${f.groupVP}`, { name: 'Mine' })),
  },
  {
    name: 'inviting into another group is not found',
    route: 'InviteGroupMembers',
    fields: ['path.conversationId'],
    run: async () => denied(await call(a, 'POST', `/api/groups/${f.groupVP}/members`, { userIds: [q1.userId] })),
  },
  {
    name: 'inviting someone who blocks the inviter answers as usual and invites nobody',
    route: 'InviteGroupMembers',
    fields: ['body.userIds'],
    run: async () => expectStatus(await call(a, 'POST', `/api/groups/${f.groupA}/members`, { userIds: [v.userId] }), [204]),
  },
  {
    name: 'creating a group that names someone who blocks the creator invites nobody (the creator cannot tell)',
    route: 'CreateGroup',
    fields: ['body.memberIds'],
    run: async () => expectStatus(await call(a, 'POST', '/api/groups', { name: 'Lure', memberIds: [v.userId] }), [201]),
    writes: namesNoVictim,
  },
  {
    name: 'removing a member of another group is not found',
    route: 'RemoveGroupMember',
    fields: ['path.conversationId'],
    run: async () => denied(await call(a, 'DELETE', `/api/groups/${f.groupVP}/members/${p.userId}`)),
  },
  {
    name: "removing a user who is not in the caller's group is not found",
    route: 'RemoveGroupMember',
    fields: ['path.userId'],
    run: async () => denied(await call(a, 'DELETE', `/api/groups/${f.groupA}/members/${v.userId}`)),
  },
  {
    name: 'roles in another group cannot be set',
    route: 'SetGroupMemberRole',
    fields: ['path.conversationId'],
    run: async () => denied(await call(a, 'PUT', `/api/groups/${f.groupVP}/members/${a.userId}/role`, { role: 'admin' })),
  },
  {
    name: "a role for a user who is not in the caller's group is not found",
    route: 'SetGroupMemberRole',
    fields: ['path.userId'],
    run: async () => denied(await call(a, 'PUT', `/api/groups/${f.groupA}/members/${v.userId}/role`, { role: 'admin' })),
  },
  {
    name: 'leaving another group is not found',
    route: 'LeaveGroup',
    fields: ['path.conversationId'],
    run: async () => denied(await call(a, 'POST', `/api/groups/${f.groupVP}/leave`)),
  },
  {
    name: "another user's invitation cursor is refused",
    route: 'ListGroupInvitations',
    fields: ['query.cursor'],
    run: async () => expectStatus(await call(a, 'GET', `/api/groups/invitations?cursor=${encodeURIComponent(f.cursors.invitations)}`), [400], 'invalid_cursor'),
  },
  {
    name: "another user's invitation cannot be accepted",
    route: 'AcceptGroupInvitation',
    fields: ['path.conversationId'],
    run: async () => denied(await call(a, 'POST', `/api/groups/${f.groupInvitingV}/invitations/accept`)),
  },
  {
    name: "another user's invitation cannot be declined",
    route: 'DeclineGroupInvitation',
    fields: ['path.conversationId'],
    run: async () => denied(await call(a, 'POST', `/api/groups/${f.groupInvitingV}/invitations/decline`)),
  },
  {
    name: 'posting into another group is not found and delivers nothing',
    route: 'PostGroupMessage',
    fields: ['path.conversationId'],
    run: async () => denied(await call(a, 'POST', `/api/groups/${f.groupVP}/messages`, groupCipher())),
  },
  {
    name: "another user's clientMessageId in a group is a new message of the caller's",
    route: 'PostGroupMessage',
    fields: ['body.clientMessageId'],
    async run() {
      const r = await call(a, 'POST', `/api/groups/${f.groupA}/messages`, groupCipher(vMessage().clientMessageId));
      expectStatus(r, [201]);
      assert.equal(r.json.conversationId, f.groupA);
      assert.ok(!vpIds().has(r.json.messageId));
    },
    writes: namesNoVictim,
  },
  {
    name: 'typing into another group is not found, and nobody in it hears it',
    route: 'WsTyping',
    fields: ['frame.conversationId'],
    async run() {
      const r = await frame({ action: 'typing', conversationId: f.groupVP });
      assert.equal(r.type, 'error');
      assert.equal(r.code, 'conversation_not_found');
    },
  },
  {
    name: 'receipts in another group are not found',
    route: 'WsMarkRead',
    fields: ['frame.conversationId'],
    async run() {
      const r = await frame({ action: 'markRead', conversationId: f.groupVP, upToMessageId: vMessage().messageId });
      assert.equal(r.type, 'error');
      assert.equal(r.code, 'conversation_not_found');
    },
  },
  {
    name: 'a report naming another group is not found (its members and messages stay unseen)',
    route: 'CreateReport',
    fields: ['body.conversationId'],
    async run() {
      const r = await call(a, 'POST', '/api/reports', { targetUserId: v.userId, conversationId: f.groupVP, reason: 'spam' });
      expectStatus(r, [404], 'conversation_not_found');
    },
  },
  {
    name: 'a frame into another group is not found',
    route: 'WsSendMessage',
    fields: ['frame.conversationId'],
    async run() {
      const r = await frame({ action: 'sendMessage', conversationId: f.groupVP, ...groupCipher() });
      assert.equal(r.type, 'error');
      assert.equal(r.code, 'conversation_not_found');
    },
  },
];

const cases: Case[] = [
  {
    name: "another user's public key is public: the documented key set, nothing more",
    route: 'GetUserPublicKey',
    fields: ['path.userId'],
    async run() {
      const r = await call(a, 'GET', `/api/users/${v.userId}/public-key`);
      expectStatus(r, [200]);
      assert.equal(r.json.userId, v.userId);
      assert.deepEqual(Object.keys(r.json).sort(), ['fingerprint', 'identityKey', 'publicKey', 'signature', 'updatedAt', 'userId', 'version']);
    },
  },
  {
    name: 'a frame to a user who blocks the sender is acked, stored for the sender only and never delivered',
    route: 'WsSendMessage',
    fields: ['frame.to'],
    async run() {
      const ack = await frame({ action: 'sendMessage', to: v.userId, ...cipher() });
      assert.equal(ack.type, 'ack', JSON.stringify(ack));
    },
    // the message (hidden from V), the attacker's own conversation entry and stream: nothing under V's keys
    writes: (d) => d.table === 'messages' && !sk(d).includes(v.userId) && !pk(d).includes(v.userId) && !String(d.item.gsi1pk ?? '').includes(v.userId),
  },
  {
    name: "opening a conversation with a user writes only the opener's side (the target is not told)",
    route: 'CreateConversation',
    fields: ['body.userId'],
    async run() {
      const r = await call(a, 'POST', '/api/conversations', { userId: p.userId });
      expectStatus(r, [200, 201]);
      assert.equal(r.json.peer.userId, p.userId);
    },
    writes: (d) => d.table === 'messages' && !sk(d).includes(p.userId) && !pk(d).includes(p.userId) && !String(d.item.gsi1pk ?? '').includes(p.userId),
  },
  {
    name: 'typing to a user one shares no conversation with is refused',
    route: 'WsTyping',
    fields: ['frame.to'],
    async run() {
      const r = await frame({ action: 'typing', to: x.userId });
      assert.equal(r.type, 'error');
      assert.equal(r.code, 'conversation_not_found');
    },
  },
  {
    name: 'typing into a conversation the target never joined reaches nobody',
    route: 'WsTyping',
    fields: ['frame.to'],
    async run() {
      // the attacker opened a conversation with P above; P has no inbox entry for it
      const done = handled('WsTyping');
      attackerSocket.send({ action: 'typing', to: p.userId });
      await done;
    },
  },
  {
    name: "another user's inbox cursor is refused",
    route: 'ListConversations',
    fields: ['query.cursor'],
    run: async () => expectStatus(await call(a, 'GET', `/api/conversations?cursor=${encodeURIComponent(f.cursors.inbox)}`), [400], 'invalid_cursor'),
  },
  {
    name: "another pair's conversation history is not found",
    route: 'ListMessages',
    fields: ['path.conversationId'],
    run: async () => denied(await call(a, 'GET', `/api/conversations/${f.convVP}/messages`)),
  },
  {
    name: "another pair's message id as `before` pages only the caller's own conversation",
    route: 'ListMessages',
    fields: ['query.before'],
    async run() {
      const r = await call(a, 'GET', `/api/conversations/${f.convAQ}/messages?before=${vMessage().messageId}`);
      expectStatus(r, [200, 400, 403, 404]);
      for (const msg of r.json.messages ?? []) {
        assert.equal(msg.conversationId, f.convAQ);
        assert.ok(!vpIds().has(msg.messageId));
      }
    },
  },
  {
    name: "posting into another pair's conversation is not found and delivers nothing",
    route: 'PostMessage',
    fields: ['path.conversationId'],
    run: async () => denied(await call(a, 'POST', `/api/conversations/${f.convVP}/messages`, cipher())),
  },
  {
    name: "another user's clientMessageId is a new message of the caller's, never the other's ack",
    route: 'PostMessage',
    fields: ['body.clientMessageId'],
    async run() {
      const r = await call(a, 'POST', `/api/conversations/${f.convAQ}/messages`, cipher(vMessage().clientMessageId));
      expectStatus(r, [200, 201]);
      assert.equal(r.json.conversationId, f.convAQ);
      assert.ok(!vpIds().has(r.json.messageId), 'the ack of the victim’s message came back');
    },
    // the new message in the caller's own conversation, its inbox entries and stream counters
    writes: (d) => d.table === 'messages' && !JSON.stringify(d.item).includes(v.userId) && !JSON.stringify(d.item).includes(p.userId),
  },
  {
    name: "another user's clientMessageId over the socket is a new message of the caller's",
    route: 'WsSendMessage',
    fields: ['frame.clientMessageId'],
    async run() {
      const ack = await frame({ action: 'sendMessage', to: q1.userId, ...cipher(vMessage().clientMessageId) });
      assert.equal(ack.type, 'ack', JSON.stringify(ack));
      assert.equal(ack.conversationId, f.convAQ);
      assert.ok(!vpIds().has(ack.messageId));
    },
    // the new message in the caller's own conversation, its inbox entries and stream counters
    writes: (d) => d.table === 'messages' && !JSON.stringify(d.item).includes(v.userId) && !JSON.stringify(d.item).includes(p.userId),
  },
  {
    name: "sync positions are the caller's own: from the start nothing of other pairs comes back",
    route: 'SyncMessages',
    fields: ['query.after'],
    async run() {
      const r = await call(a, 'GET', '/api/messages/sync?limit=100');
      expectStatus(r, [200]);
      for (const msg of r.json.messages) assert.ok(msg.senderId === a.userId || msg.recipientId === a.userId, JSON.stringify(msg));
    },
  },
  {
    name: "read receipts in another pair's conversation are not found",
    route: 'WsMarkRead',
    fields: ['frame.conversationId'],
    async run() {
      const r = await frame({ action: 'markRead', conversationId: f.convVP, upToMessageId: vMessage().messageId });
      assert.equal(r.type, 'error');
      assert.equal(r.code, 'conversation_not_found');
    },
  },
  {
    name: "a read position at another pair's message is not found",
    route: 'WsMarkRead',
    fields: ['frame.upToMessageId'],
    async run() {
      const r = await frame({ action: 'markRead', conversationId: f.convAQ, upToMessageId: pMessage().messageId });
      assert.equal(r.type, 'error');
      assert.equal(r.code, 'message_not_found');
    },
  },
  {
    name: "delivered receipts in another pair's conversation are not found",
    route: 'WsDelivered',
    fields: ['frame.conversationId'],
    async run() {
      const r = await frame({ action: 'delivered', conversationId: f.convVP, upToMessageId: pMessage().messageId });
      assert.equal(r.type, 'error');
      assert.equal(r.code, 'conversation_not_found');
    },
  },
  {
    name: "a delivered position at another pair's message is not found",
    route: 'WsDelivered',
    fields: ['frame.upToMessageId'],
    async run() {
      const r = await frame({ action: 'delivered', conversationId: f.convAQ, upToMessageId: vMessage().messageId });
      assert.equal(r.type, 'error');
      assert.equal(r.code, 'message_not_found');
    },
  },
  {
    name: 'unblocking someone another user blocks changes nothing of theirs',
    route: 'UnblockUser',
    fields: ['path.userId'],
    run: async () => expectStatus(await call(a, 'DELETE', `/api/users/${q2.userId}/block`), [204]),
  },
  {
    name: "another user's blocked-list cursor is refused",
    route: 'ListBlocked',
    fields: ['query.cursor'],
    run: async () => expectStatus(await call(a, 'GET', `/api/users/blocked?cursor=${encodeURIComponent(f.cursors.blocked)}`), [400], 'invalid_cursor'),
  },
  {
    name: "blocking a user writes only the blocker's own entry (the blocked user is not told)",
    route: 'BlockUser',
    fields: ['path.userId'],
    async run() {
      const r = await call(a, 'POST', `/api/users/${v.userId}/block`);
      expectStatus(r, [200]);
      assert.equal(r.json.userId, v.userId);
    },
    // the block and its reverse index (who blocks V), both the blocker's relation
    writes: (d) => d.table === 'moderation' && d.sign === '+' && d.item.blockerId === a.userId && d.item.blockedId === v.userId,
  },
  {
    name: "reports cannot cite another pair's messages (or their plaintext)",
    route: 'CreateReport',
    fields: ['body.messageIds', 'body.evidence[].messageId'],
    async run() {
      const cited = pMessage().messageId;
      const r = await call(a, 'POST', '/api/reports', {
        targetUserId: p.userId,
        reason: 'harassment',
        messageIds: [cited],
        evidence: [{ messageId: cited, plaintext: 'forged' }],
      });
      expectStatus(r, [400, 403, 404]);
    },
  },
  {
    name: 'reporting a user files the reporter’s report; the target is not told and not restricted',
    route: 'CreateReport',
    fields: ['body.targetUserId'],
    async run() {
      const r = await call(a, 'POST', '/api/reports', { targetUserId: v.userId, reason: 'spam' });
      expectStatus(r, [201]);
      assert.equal(r.json.targetUserId, v.userId);
    },
    writes: (d) => d.table === 'moderation' && d.sign === '+',
  },
  {
    name: "another user's report-list cursor is refused",
    route: 'ListMyReports',
    fields: ['query.cursor'],
    run: async () => expectStatus(await call(a, 'GET', `/api/reports/mine?cursor=${encodeURIComponent(f.cursors.myReports)}`), [400], 'invalid_cursor'),
  },
  {
    name: "a moderator's queue cursor gets a plain user nothing",
    route: 'AdminListReports',
    fields: ['query.cursor'],
    run: async () => forbidden('moderator_only')(await call(a, 'GET', `/api/admin/reports?cursor=${encodeURIComponent(f.cursors.queue)}`)),
  },
  {
    name: "an admin's audit cursor gets a plain user nothing",
    route: 'AdminAudit',
    fields: ['query.cursor'],
    run: async () => forbidden('admin_only')(await call(a, 'GET', `/api/admin/audit?cursor=${encodeURIComponent(f.cursors.audit)}`)),
  },
  {
    name: "an admin's audit cursor gets a moderator nothing",
    route: 'AdminAudit',
    fields: ['query.cursor'],
    run: async () => forbidden('admin_only')(await call(m, 'GET', `/api/admin/audit?cursor=${encodeURIComponent(f.cursors.audit)}`)),
  },
  {
    name: 'a plain user cannot open a report',
    route: 'AdminGetReport',
    fields: ['path.reportId'],
    run: async () => forbidden('moderator_only')(await call(a, 'GET', `/api/admin/reports/${f.reportVP}`)),
  },
  {
    name: 'a moderator cannot open a report about themselves',
    route: 'AdminGetReport',
    fields: ['path.reportId'],
    run: async () => forbidden('cannot_act_on_self')(await call(m, 'GET', `/api/admin/reports/${f.reportAboutM}`)),
  },
  {
    name: 'a moderator cannot open a report about another moderator',
    route: 'AdminGetReport',
    fields: ['path.reportId'],
    run: async () => forbidden('target_is_staff')(await call(m, 'GET', `/api/admin/reports/${f.reportAboutM2}`)),
  },
  {
    name: 'a plain user cannot decide a report',
    route: 'AdminResolveReport',
    fields: ['path.reportId'],
    run: async () => forbidden('moderator_only')(await call(a, 'POST', `/api/admin/reports/${f.reportVP}/resolve`, { decision: 'dismiss', note: 'mine now' })),
  },
  {
    name: 'a moderator cannot decide their own case',
    route: 'AdminResolveReport',
    fields: ['path.reportId'],
    run: async () =>
      forbidden('cannot_act_on_self')(await call(m, 'POST', `/api/admin/reports/${f.reportAboutM}/resolve`, { decision: 'dismiss', note: 'nothing to see' })),
  },
  {
    name: "a moderator cannot decide another moderator's case",
    route: 'AdminResolveReport',
    fields: ['path.reportId'],
    run: async () => forbidden('target_is_staff')(await call(m, 'POST', `/api/admin/reports/${f.reportAboutM2}/resolve`, { decision: 'ban', note: 'rival' })),
  },
  {
    name: "another user's device cannot be renamed (not found)",
    route: 'RenameDevice',
    fields: ['path.deviceId'],
    run: async () => expectStatus(await call(a, 'PATCH', `/api/devices/${f.deviceV}`, { name: 'pwned' }), [404], 'device_not_found'),
  },
  {
    name: "another user's device cannot be revoked, even with the caller's own fresh proof (not found)",
    route: 'RevokeDevice',
    fields: ['path.deviceId'],
    run: async () => expectStatus(await call(a, 'DELETE', `/api/devices/${f.deviceV}`, { password: a.password }), [404], 'device_not_found'),
  },
  {
    name: 'a link another account approved cannot be viewed',
    route: 'GetDeviceLink',
    fields: ['path.linkId'],
    run: async () => expectStatus(await call(a, 'GET', `/api/devices/links/${f.linkV}`), [404], 'link_not_found'),
  },
  {
    name: 'a link another account approved cannot be approved again (its box replaced)',
    route: 'ApproveDeviceLink',
    fields: ['path.linkId'],
    run: async () =>
      expectStatus(
        await call(a, 'POST', `/api/devices/links/${f.linkV}/approve`, {
          ciphertext: Buffer.from(nacl.randomBytes(112)).toString('base64'),
          nonce: Buffer.from(nacl.randomBytes(24)).toString('base64'),
          publicKey: Buffer.from(nacl.box.keyPair().publicKey).toString('base64'),
          password: a.password,
        }),
        [404],
        'link_not_found',
      ),
  },
  {
    name: "a stolen link id without its secret claims nothing (and does not spend the victim's link)",
    route: 'ClaimDeviceLink',
    fields: ['path.linkId'],
    run: async () =>
      expectStatus(
        await request(rt.httpUrl, 'POST', `/api/devices/links/${f.linkV}/claim`, {
          body: { linkSecret: Buffer.from(nacl.randomBytes(32)).toString('base64url') },
        }),
        [404],
        'link_not_found',
      ),
  },
  ...(['suspend', 'ban', 'restore'] as const).flatMap((action): Case[] => {
    const route = { suspend: 'AdminSuspendUser', ban: 'AdminBanUser', restore: 'AdminRestoreUser' }[action];
    const body = () => ({ note: 'because', ...(action === 'suspend' ? { durationHours: 1 } : {}) });
    const act = (who: Account, target: Account) => call(who, 'POST', `/api/admin/users/${target.userId}/${action}`, body());
    return [
      { name: `a plain user cannot ${action} another user`, route, fields: ['path.userId'], run: async () => forbidden('moderator_only')(await act(a, v)) },
      {
        name: `a moderator cannot ${action} another moderator`,
        route,
        fields: ['path.userId'],
        run: async () => forbidden('target_is_staff')(await act(m, m2)),
      },
      { name: `a moderator cannot ${action} an admin`, route, fields: ['path.userId'], run: async () => forbidden('target_is_staff')(await act(m, x)) },
      { name: `a moderator cannot ${action} themselves`, route, fields: ['path.userId'], run: async () => forbidden('cannot_act_on_self')(await act(m, m)) },
      { name: `an admin cannot ${action} themselves`, route, fields: ['path.userId'], run: async () => forbidden('cannot_act_on_self')(await act(x, x)) },
    ];
  }),
  ...groupCases(),
  ...attachmentCases(),
];

/** The tables as the previous case left them (nothing runs between cases). */
let last: Record<string, string[]>;

/** Runs one case and checks that nothing but its documented writes happened and no victim heard of it. */
async function runCase(c: Case): Promise<void> {
  const before = last;
  let failed: { error: unknown } | undefined;
  try {
    await c.run();
  } catch (error) {
    failed = { error };
  }
  // drained and measured even when the answer was wrong, so the next case starts clean
  const frames = await victimFrames();
  last = await snapshot(rt);
  if (failed) throw failed.error;
  assert.deepEqual(frames, [], 'a victim was pushed a frame');
  const unexpected = showChanges(snapshotDiff(before, last).filter((d) => !(c.writes?.(d) ?? false)));
  assert.deepEqual(unexpected, [], 'changes beyond the documented answer');
}

describe("another user's objects", () => {
  for (const c of cases) test(`${c.route}: ${c.name}`, () => runCase(c));
});

describe('staff routes', () => {
  /** The fixture object each path parameter names, for routes tried without caring whose it is. */
  const pathIds = (): Record<string, string> => ({ userId: v.userId, reportId: f.reportVP, conversationId: f.convVP });
  for (const route of httpRoutes.filter((r) => r.access === 'moderator' || r.access === 'admin')) {
    const callers =
      route.access === 'admin'
        ? ([
            ['a plain user', () => a],
            ['a moderator', () => m],
          ] as const)
        : ([['a plain user', () => a]] as const);
    for (const [who, caller] of callers) {
      test(`${httpRouteKey(route)} refuses ${who} (403 before anything is read or written)`, () =>
        runCase({
          name: who,
          route: route.id,
          fields: [],
          async run() {
            const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
              const id = pathIds()[name];
              assert.ok(id, `no fixture id for path parameter ${name}: add one to pathIds()`);
              return id;
            });
            forbidden(route.access === 'admin' ? 'admin_only' : 'moderator_only')(await call(caller(), route.method, path));
          },
        }));
    }
  }
});

test('every id-taking route and id field has a case (read from the manifest and the contracts)', () => {
  const missing: string[] = [];
  let routes = 0;
  for (const route of allRoutes) {
    const fields = idFields(route);
    if (!fields.length) continue;
    routes++;
    const mine = cases.filter((c) => c.route === route.id);
    if (!mine.length) missing.push(`${route.id}: no case at all (takes ${fields.join(', ')})`);
    for (const field of fields) if (mine.length && !mine.some((c) => c.fields.includes(field))) missing.push(`${route.id}: no case for ${field}`);
  }
  const known = new Set(allRoutes.map((r) => r.id));
  for (const c of cases) if (!known.has(c.route)) missing.push(`case "${c.name}" names unknown route ${c.route}`);
  assert.ok(routes >= 20, `only ${routes} id-taking routes found: is the detection broken?`);
  assert.deepEqual(missing, []);
});
