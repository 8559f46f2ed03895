// The NexChat client SDK for apps (and our tests): HTTP calls with transparent token refresh
// (on a 401, one refresh for everyone waiting, then each request retried once), the WebSocket
// with a single-use ticket, and the tweetnacl key and message helpers a client needs for E2E
// encryption. Private keys stay with the caller; nothing here sends them anywhere.
import nacl from 'tweetnacl';
import type { Message } from '../contract/conversations/schemas.ts';
import type { Group, GroupRole, Invitation } from '../contract/groups/schemas.ts';

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

export interface ClientOptions {
  /** e.g. http://localhost:3000 */
  baseUrl: string;
  /** e.g. ws://localhost:3001 */
  wsUrl: string;
  tokens?: Tokens;
  /** Called whenever tokens change (persist them), and with null when the session is over. */
  onTokens?: (tokens: Tokens | null) => void;
  fetch?: typeof fetch;
  /**
   * Sockets from connect() send `{"action":"ping"}` this often (the server answers `pong`), since
   * API Gateway closes a socket idle for 10 minutes. Default 5 minutes; 0 turns it off; must be
   * under 10 minutes.
   */
  keepAliveMs?: number;
  /** The timers the keep-alive uses (tests pass fakes); defaults to the global ones. */
  timers?: KeepAliveTimers;
}

export interface KeepAliveTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** API Gateway's idle timeout for a WebSocket connection (not adjustable). */
export const WS_IDLE_TIMEOUT_MS = 10 * 60_000;
/** The SDK's default keep-alive interval: half the idle timeout. */
export const KEEP_ALIVE_MS = 5 * 60_000;
/** The keep-alive frame: `$default` answers it with `{"type":"pong","time":…}`. */
export const PING_FRAME = JSON.stringify({ action: 'ping' });

const globalTimers: KeepAliveTimers = {
  setInterval(fn, ms) {
    const handle = setInterval(fn, ms);
    // a keep-alive alone never keeps a Node process running
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, code: string, message: string, details?: unknown, retryAfterSeconds?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The session is over (refresh failed): sign in again. */
export class SessionExpired extends ApiError {
  constructor(cause: ApiError) {
    super(401, 'session_expired', `Signed out: ${cause.message}`, { cause: cause.code });
    this.name = 'SessionExpired';
  }
}

export class NexChatClient {
  private tokens: Tokens | undefined;
  private refreshing: Promise<void> | undefined;
  private readonly opts: ClientOptions;
  private readonly doFetch: typeof fetch;

  constructor(opts: ClientOptions) {
    this.opts = opts;
    this.tokens = opts.tokens;
    this.doFetch = opts.fetch ?? fetch;
    const every = opts.keepAliveMs ?? KEEP_ALIVE_MS;
    if (!Number.isFinite(every) || every < 0 || every >= WS_IDLE_TIMEOUT_MS) {
      throw new RangeError(`keepAliveMs must be 0 (off) or under API Gateway's 10-minute idle timeout, got ${every}`);
    }
  }

  get signedIn(): boolean {
    return this.tokens !== undefined;
  }

  /**
   * A JSON API call. Signed-in calls refresh once on a 401 that refused the access token, and retry;
   * auth routes never do, nor does a 401 about something else (a wrong `reauth` code).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped until the SDK is generated from the contract (issue 14)
  async request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const tokenUsed = this.tokens?.accessToken;
    try {
      return await this.send<T>(method, path, body, tokenUsed);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401 || !tokenUsed || path.startsWith('/api/auth/')) throw error;
      if (error.code !== 'invalid_token' && error.code !== 'token_revoked') throw error;
      await this.refreshOnce(tokenUsed);
      return this.send<T>(method, path, body, this.tokens?.accessToken);
    }
  }

  /**
   * Every request that failed with the same access token waits for one shared refresh. A request
   * whose token was already replaced just retries with the new one.
   */
  private async refreshOnce(failedToken: string): Promise<void> {
    if (this.tokens && this.tokens.accessToken !== failedToken) return;
    this.refreshing ??= (async () => {
      try {
        const refreshToken = this.tokens?.refreshToken;
        if (!refreshToken) throw new ApiError(401, 'not_signed_in', 'Not signed in');
        const res = await this.send<Tokens & { user: unknown }>('POST', '/api/auth/refresh', { refreshToken }, undefined);
        this.setTokens({ accessToken: res.accessToken, refreshToken: res.refreshToken });
      } catch (error) {
        this.setTokens(null);
        throw error instanceof ApiError ? new SessionExpired(error) : error;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private setTokens(tokens: Tokens | null): void {
    this.tokens = tokens ?? undefined;
    this.opts.onTokens?.(tokens);
  }

  private async send<T>(method: string, path: string, body: unknown, accessToken: string | undefined): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (accessToken) headers.authorization = `Bearer ${accessToken}`;
    const res = await this.doFetch(`${this.opts.baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    const json = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const e = json?.error ?? { code: 'http_error', message: json?.message ?? res.statusText };
      const retry = res.headers.get('retry-after');
      throw new ApiError(res.status, e.code, e.message, e.details, retry ? Number(retry) : undefined);
    }
    return json as T;
  }

  // ---- auth ---------------------------------------------------------------------------------

  requestOtp(channel: 'email' | 'sms', destination: string, purpose: 'register' | 'login' | 'password' | 'reset' | 'reauth') {
    return this.request('POST', '/api/auth/otp/request', { channel, destination, purpose });
  }

  async register(input: { email?: string; phone?: string; displayName: string; password?: string; code?: string; deviceName?: string }) {
    const res = await this.request('POST', '/api/auth/register', input);
    this.setTokens({ accessToken: res.accessToken, refreshToken: res.refreshToken });
    return res.user;
  }

  /** Returns the user, or `{ otpRequired: true, ... }` when this deployment wants a code too. */
  async login(input: { email?: string; phone?: string; password?: string; code?: string; deviceName?: string }) {
    const res = await this.request('POST', '/api/auth/login', input);
    if (res.otpRequired) return res;
    this.setTokens({ accessToken: res.accessToken, refreshToken: res.refreshToken });
    return res.user;
  }

  async logout(): Promise<void> {
    try {
      await this.request('POST', '/api/auth/logout');
    } finally {
      this.setTokens(null);
    }
  }

  // ---- devices ---------------------------------------------------------------------------------

  /** This account's signed-in devices; `current` marks this one. */
  async devices(): Promise<DeviceInfo[]> {
    return (await this.request<{ devices: DeviceInfo[] }>('GET', '/api/devices')).devices;
  }

  renameDevice(deviceId: string, name: string): Promise<DeviceInfo> {
    return this.request('PATCH', `/api/devices/${encodeURIComponent(deviceId)}`, { name });
  }

  /** Signs a device out (its tokens stop at once, its sockets close); takes the password, or a `reauth` code. */
  async revokeDevice(deviceId: string, proof: Proof): Promise<void> {
    await this.request('DELETE', `/api/devices/${encodeURIComponent(deviceId)}`, proof);
  }

  /**
   * On the new, signed-out device: an ephemeral X25519 key pair and a link request. Show
   * `qrPayload` (and `verificationCode`, which the approving device shows too) and keep the request
   * for claimLink(); it expires after `expiresIn` seconds.
   */
  async requestLink(deviceName: string): Promise<LinkRequest> {
    const keyPair = nacl.box.keyPair();
    const publicKey = b64(keyPair.publicKey);
    const res = await this.request<{ linkId: string; linkSecret: string; expiresIn: number }>('POST', '/api/devices/links', { publicKey, deviceName });
    return {
      ...res,
      publicKey,
      keyPair,
      deviceName,
      qrPayload: linkQrPayload(res.linkId, publicKey),
      verificationCode: linkVerificationCode(publicKey),
      expiresAt: Date.now() + res.expiresIn * 1000,
    };
  }

  /**
   * On a signed-in device: `scanned` is parseLinkQr() of the new device's code. The server's copy of
   * the key must match it, and the user must see the same verificationCode on both screens before
   * calling this. The account's secret keys go to the new device boxed to its key: the server relays
   * ciphertext only.
   */
  async approveLink(scanned: { linkId: string; publicKey: string }, accountKeys: DeviceKeys, proof: Proof): Promise<void> {
    const pending = await this.request<{ publicKey: string; approved: boolean }>('GET', `/api/devices/links/${encodeURIComponent(scanned.linkId)}`);
    if (pending.publicKey !== scanned.publicKey) throw new LinkMismatch();
    const sender = nacl.box.keyPair();
    const nonce = nacl.randomBytes(nacl.box.nonceLength);
    const plaintext = new TextEncoder().encode(
      JSON.stringify({ v: 1, identitySecretKey: b64(accountKeys.identity.secretKey), boxSecretKey: b64(accountKeys.box.secretKey) }),
    );
    const ciphertext = nacl.box(plaintext, nonce, unb64(scanned.publicKey), sender.secretKey);
    await this.request('POST', `/api/devices/links/${encodeURIComponent(scanned.linkId)}/approve`, {
      ciphertext: b64(ciphertext),
      nonce: b64(nonce),
      publicKey: b64(sender.publicKey),
      ...proof,
    });
  }

  /**
   * On the new device, once approved: signs in as a new device of the account and opens the relayed
   * box. A link that is not approved yet answers like an unknown one (404 link_not_found): see
   * waitForLink() to poll.
   */
  async claimLink(request: LinkRequest): Promise<LinkedDevice> {
    const res = await this.request('POST', `/api/devices/links/${encodeURIComponent(request.linkId)}/claim`, { linkSecret: request.linkSecret });
    const opened = nacl.box.open(unb64(res.ciphertext), unb64(res.nonce), unb64(res.publicKey), request.keyPair.secretKey);
    if (!opened) throw new ApiError(0, 'link_box_invalid', 'The relayed keys do not open with this device’s key');
    const secrets = JSON.parse(new TextDecoder().decode(opened)) as { identitySecretKey: string; boxSecretKey: string };
    const keys: DeviceKeys = {
      identity: nacl.sign.keyPair.fromSecretKey(unb64(secrets.identitySecretKey)),
      box: nacl.box.keyPair.fromSecretKey(unb64(secrets.boxSecretKey)),
    };
    this.setTokens({ accessToken: res.accessToken, refreshToken: res.refreshToken });
    // The box proves only that someone with the link's public key sealed it. The keys it holds must be
    // the account's published ones (signed by its identity key), or a relay that swapped the box could
    // have handed this device keys of its own choosing: then refuse them and sign this device out.
    const published = await this.publicKey(res.user.userId).catch(() => undefined);
    if (!published || published.identityKey !== b64(keys.identity.publicKey) || published.publicKey !== b64(keys.box.publicKey)) {
      await this.request('POST', '/api/auth/logout').catch(() => undefined);
      this.setTokens(null);
      throw new ApiError(0, 'link_keys_mismatch', 'The relayed keys are not the account’s published keys; this device was signed out');
    }
    return { user: res.user, deviceId: res.deviceId, keys };
  }

  /** Claims as soon as the link is approved: polls every `intervalMs` until the request expires. */
  async waitForLink(request: LinkRequest, intervalMs = 3000, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<LinkedDevice> {
    for (;;) {
      try {
        return await this.claimLink(request);
      } catch (error) {
        if (!(error instanceof ApiError) || error.code !== 'link_not_found' || Date.now() + intervalMs > request.expiresAt) throw error;
      }
      await sleep(intervalMs);
    }
  }

  // ---- public keys ------------------------------------------------------------------------------

  /** Directory entries seen so far, per user and version: an older message still opens after its sender rotates. */
  private readonly keyCache = new Map<string, Map<number, PublishedKey>>();

  /**
   * A user's published key from the directory, its signature checked (a key the identity key did not
   * sign is refused with `KeyInvalid`). Cached per version: with `version`, a cached entry of exactly
   * that version, else the directory's current one (which may be another version: check `.version`);
   * without, the newest cached or the directory's.
   */
  async publicKey(userId: string, version?: number): Promise<PublishedKey> {
    const known = this.keyCache.get(userId);
    const cached = version === undefined ? (known ? known.get(Math.max(...known.keys())) : undefined) : known?.get(version);
    if (cached) return cached;
    const entry = await this.request<PublishedKey>('GET', `/api/users/${encodeURIComponent(userId)}/public-key`);
    if (entry.userId !== userId || !verifyPublishedKey(entry)) throw new KeyInvalid(userId);
    const versions = known ?? new Map<number, PublishedKey>();
    versions.set(entry.version, entry);
    this.keyCache.set(userId, versions);
    return entry;
  }

  // ---- groups -----------------------------------------------------------------------------------

  /** The member set (userId → key version) each group was last seen with: what the next send wraps for. */
  private readonly groupKeyVersions = new Map<string, Map<string, number>>();
  /** Group sends waiting on each socket, oldest first (error frames name no message, so one at a time). */
  private readonly socketSends = new WeakMap<WebSocket, Promise<unknown>>();

  /** Creates a group with the caller as admin; everyone in `memberIds` is invited (joins by accepting). */
  async createGroup(name: string, memberIds: string[] = []): Promise<string> {
    return (await this.request<{ conversationId: string }>('POST', '/api/groups', { name, memberIds })).conversationId;
  }

  /** The group, the caller's role and the members with roles and key versions (members only; 404 otherwise). */
  async group(conversationId: string): Promise<Group> {
    const g = await this.request<Group>('GET', groupPath(conversationId));
    this.groupKeyVersions.set(conversationId, new Map(g.members.flatMap((m) => (m.keyVersion === undefined ? [] : [[m.userId, m.keyVersion] as const]))));
    return g;
  }

  renameGroup(conversationId: string, name: string): Promise<{ conversationId: string; name: string }> {
    return this.request('PATCH', groupPath(conversationId), { name });
  }

  /** Invites up to 20 people (admins only); unknown users, members and people who block the caller are skipped silently. */
  async inviteToGroup(conversationId: string, userIds: string[]): Promise<void> {
    await this.request('POST', `${groupPath(conversationId)}/members`, { userIds });
  }

  async removeGroupMember(conversationId: string, userId: string): Promise<void> {
    await this.request('DELETE', `${groupPath(conversationId)}/members/${encodeURIComponent(userId)}`);
    this.groupKeyVersions.get(conversationId)?.delete(userId);
  }

  async setGroupRole(conversationId: string, userId: string, role: GroupRole): Promise<void> {
    await this.request('PUT', `${groupPath(conversationId)}/members/${encodeURIComponent(userId)}/role`, { role });
  }

  async leaveGroup(conversationId: string): Promise<void> {
    await this.request('POST', `${groupPath(conversationId)}/leave`);
    this.groupKeyVersions.delete(conversationId);
  }

  /** Pending invitations to the caller, newest first, with a cursor for the next page. */
  groupInvitations(cursor?: string): Promise<{ invitations: Invitation[]; cursor?: string }> {
    return this.request('GET', `/api/groups/invitations${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`);
  }

  acceptInvitation(conversationId: string): Promise<{ conversationId: string; joinedAt: string }> {
    return this.request('POST', `${groupPath(conversationId)}/invitations/accept`);
  }

  async declineInvitation(conversationId: string): Promise<void> {
    await this.request('POST', `${groupPath(conversationId)}/invitations/decline`);
  }

  /**
   * Encrypts `text` for the group as last seen (group() loads it when this client has not) and sends
   * it, over `socket` if given (waiting for the ack), else over HTTP. A `members_changed` answer
   * carries the current members and key versions: the message key is wrapped again for exactly those
   * (keys refetched where the version moved) and sent once more with the same clientMessageId; a
   * second `members_changed` is thrown. Returns the ack.
   */
  async sendGroupMessage(conversationId: string, text: string, sender: DeviceKeys, opts: GroupSendOptions = {}): Promise<GroupAck> {
    let members = this.groupKeyVersions.get(conversationId);
    if (!members) {
      await this.group(conversationId);
      members = this.groupKeyVersions.get(conversationId)!;
    }
    const senderKeyVersion = opts.senderKeyVersion ?? (await this.ownPublishedKey(sender)).version;
    const sealed = sealGroupMessage(text);
    const clientMessageId = opts.clientMessageId ?? crypto.randomUUID();
    const attempt = async (versions: Map<string, number>) =>
      this.deliverGroupMessage(
        conversationId,
        {
          clientMessageId,
          ciphertext: sealed.ciphertext,
          nonce: sealed.nonce,
          senderKeyVersion,
          keys: await this.wrapFor(sealed.messageKey, versions, sender),
          ...(opts.attachmentIds?.length ? { attachmentIds: opts.attachmentIds } : {}),
        },
        opts,
      );
    try {
      return await attempt(members);
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'members_changed' || !error.details || typeof error.details !== 'object') throw error;
      const current = new Map(Object.entries(error.details as Record<string, number>).filter(([, v]) => typeof v === 'number'));
      this.groupKeyVersions.set(conversationId, current);
      return await attempt(current); // awaited: the finally wipes the key only after the re-wrap
    } finally {
      sealed.messageKey.fill(0);
    }
  }

  /**
   * Opens a group message (a `message` frame, a history or sync entry): unwraps this member's key with
   * the sender's published key at `senderKeyVersion`, then the secretbox. Null when it does not open:
   * no key for this reader, a key version this client never saw, or tampering.
   */
  async openGroupMessage(message: Pick<Message, 'senderId' | 'senderKeyVersion' | 'ciphertext' | 'nonce' | 'key'>, me: DeviceKeys): Promise<string | null> {
    if (!message.key) return null;
    const senderKey = await this.publicKey(message.senderId, message.senderKeyVersion);
    if (senderKey.version !== message.senderKeyVersion) return null; // rotated before this client saw that version
    return openGroupMessage(message, senderKey.publicKey, me);
  }

  /** The message key boxed to every member's published key (sender included), in parallel, 10 lookups at a time. */
  private async wrapFor(messageKey: Uint8Array, versions: Map<string, number>, sender: DeviceKeys): Promise<Record<string, WrappedKey>> {
    const ids = [...versions.keys()];
    const keys: Record<string, WrappedKey> = {};
    for (let i = 0; i < ids.length; i += 10) {
      await Promise.all(
        ids.slice(i, i + 10).map(async (userId) => {
          const entry = await this.publicKey(userId, versions.get(userId)!);
          keys[userId] = { ...wrapMessageKey(messageKey, entry.publicKey, sender), keyVersion: entry.version };
        }),
      );
    }
    return keys;
  }

  private async deliverGroupMessage(conversationId: string, body: GroupMessageBody, { socket, timeoutMs }: GroupSendOptions): Promise<GroupAck> {
    if (!socket) return this.request<GroupAck>('POST', `${groupPath(conversationId)}/messages`, body);
    return this.queuedSocketSend(socket, { action: 'sendMessage', conversationId, ...body }, timeoutMs);
  }

  /** One send in flight per socket (error frames name no message), direct and group sends alike. */
  private queuedSocketSend(socket: WebSocket, frame: { clientMessageId: string } & Record<string, unknown>, timeoutMs: number | undefined): Promise<GroupAck> {
    const previous = this.socketSends.get(socket) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(() => socketSend(socket, frame, timeoutMs));
    this.socketSends.set(socket, mine);
    return mine;
  }

  /** The directory's entry for the caller, which must be `keys`' box key (else members could not open the message). */
  private async ownPublishedKey(keys: DeviceKeys): Promise<PublishedKey> {
    const me = await this.ownUserId();
    const mine = b64(keys.box.publicKey);
    let entry = await this.publicKey(me);
    if (entry.publicKey !== mine) {
      this.keyCache.delete(me); // rotated since this client looked
      entry = await this.publicKey(me);
    }
    if (entry.publicKey !== mine)
      throw new ApiError(0, 'key_not_published', 'These keys are not the published ones: publish them (PUT /api/users/public-key) first');
    return entry;
  }

  /** The signed-in user's id, from the access token's subject (the SDK never verifies tokens: the server does). */
  private async ownUserId(): Promise<string> {
    if (!this.tokens) await this.request('GET', '/api/users/me'); // throws the usual 401 when signed out
    const payload = this.tokens!.accessToken.split('.')[1] ?? '';
    const sub = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown }).sub;
    if (typeof sub !== 'string') throw new ApiError(0, 'token_unreadable', 'The access token names no user');
    return sub;
  }

  // ---- direct messages --------------------------------------------------------------------------

  /** Direct conversation ids by peer, once known: a send over HTTP needs the id, and it never changes. */
  private readonly directIds = new Map<string, string>();

  /** The direct conversation with `userId` (created once, server side); its id is what uploads and HTTP sends name. */
  async directConversation(userId: string): Promise<string> {
    const known = this.directIds.get(userId);
    if (known) return known;
    const { conversationId } = await this.request<{ conversationId: string }>('POST', '/api/conversations', { userId });
    this.directIds.set(userId, conversationId);
    return conversationId;
  }

  /**
   * Seals `text` (composeMessage() when it carries files) to `to`'s published key (signature checked)
   * and sends it, over `socket` if given (waiting for the ack), else over HTTP. `attachmentIds` shares
   * finished uploads. Returns the ack.
   */
  async sendDirectMessage(to: string, text: string, sender: DeviceKeys, opts: DirectSendOptions = {}): Promise<GroupAck> {
    const recipient = await this.publicKey(to);
    const senderKeyVersion = opts.senderKeyVersion ?? (await this.ownPublishedKey(sender)).version;
    const body = {
      clientMessageId: opts.clientMessageId ?? crypto.randomUUID(),
      ...seal(text, recipient.publicKey, sender),
      senderKeyVersion,
      recipientKeyVersion: recipient.version,
      ...(opts.attachmentIds?.length ? { attachmentIds: opts.attachmentIds } : {}),
    };
    if (opts.socket) return this.queuedSocketSend(opts.socket, { action: 'sendMessage', to, ...body }, opts.timeoutMs);
    const conversationId = opts.conversationId ?? (await this.directConversation(to));
    return this.request<GroupAck>('POST', `/api/conversations/${encodeURIComponent(conversationId)}/messages`, body);
  }

  /**
   * Opens a direct message (a `message` frame, a history or sync entry) with the other side's published
   * key at the version the message names: the sender's when `me` received it, the recipient's when it
   * is one of the caller's own sends. Null when it does not open.
   */
  async openDirectMessage(
    message: Pick<Message, 'senderId' | 'recipientId' | 'senderKeyVersion' | 'recipientKeyVersion' | 'ciphertext' | 'nonce'>,
    me: DeviceKeys,
  ): Promise<string | null> {
    const mine = message.senderId === (await this.ownUserId());
    const [peer, version] = mine ? [message.recipientId, message.recipientKeyVersion] : [message.senderId, message.senderKeyVersion];
    const entry = await this.publicKey(peer, version);
    return entry.version === version ? open(message, entry.publicKey, me) : null;
  }

  // ---- attachments --------------------------------------------------------------------------------

  /**
   * Encrypts `bytes` (encryptFile()), starts an upload into `conversationId` (POST /api/attachments),
   * PUTs the blob to the presigned URL with exactly the headers given (never the bearer token), and
   * completes it. Returns the id for the send's `attachmentIds` and the FileKey for the message content
   * (composeMessage()). Progress counts encrypted bytes; `sent === total` only once the storage stored
   * them. In browsers (XMLHttpRequest) it follows `upload.onprogress`; in Node it moves in
   * UPLOAD_CHUNK_BYTES steps as undici takes the body, which may run ahead of what the storage has
   * received by what the socket buffers hold. An abort leaves a pending upload the server sweeps.
   */
  async uploadAttachment(conversationId: string, bytes: Uint8Array, opts: UploadOptions = {}): Promise<UploadedAttachment> {
    opts.signal?.throwIfAborted();
    const info: { name?: string; type?: string } = {};
    if (opts.name !== undefined) info.name = opts.name;
    if (opts.type !== undefined) info.type = opts.type;
    const { blob, file } = await encryptFile(bytes, info);
    opts.signal?.throwIfAborted();
    const started = await this.request<{ attachmentId: string; upload: Transfer }>('POST', '/api/attachments', { size: blob.byteLength, conversationId });
    await putPresigned(this.doFetch, started.upload, blob, opts);
    opts.signal?.throwIfAborted();
    await this.request('POST', `/api/attachments/${encodeURIComponent(started.attachmentId)}/complete`);
    return { attachmentId: started.attachmentId, file };
  }

  /**
   * Fetches an attachment a message shared (GET /api/attachments/{id}, then the presigned URL, with
   * progress as the body streams) and opens it with the FileKey from that message (decryptFile():
   * digest first). Throws `AttachmentTampered` when the stored size, digest or secretbox disagree.
   */
  async downloadAttachment(attachmentId: string, file: FileKey, opts: TransferOptions = {}): Promise<Uint8Array> {
    fileSecrets(file);
    opts.signal?.throwIfAborted();
    const link = await this.request<{ size: number; download: Transfer }>('GET', `/api/attachments/${encodeURIComponent(attachmentId)}`);
    if (link.size !== file.size + nacl.secretbox.overheadLength) throw new AttachmentTampered('size');
    return decryptFile(await getPresigned(this.doFetch, link.download, link.size, opts), file);
  }

  // ---- realtime -------------------------------------------------------------------------------

  /**
   * Opens the WebSocket with a fresh single-use ticket (tokens never go in URLs). While it is open it
   * pings every `keepAliveMs` (the `pong` answers arrive like any frame: ignore them); closing it
   * stops the pings. API Gateway still closes every socket after 2 hours: reconnect on `close`.
   */
  async connect(): Promise<WebSocket> {
    const { ticket } = await this.request<{ ticket: string }>('POST', '/api/ws/ticket');
    const ws = new WebSocket(`${this.opts.wsUrl}/?ticket=${encodeURIComponent(ticket)}`);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error('WebSocket connection failed')), { once: true });
    });
    this.keepAlive(ws);
    this.watchRevocation(ws);
    return ws;
  }

  /**
   * API Gateway cannot close a socket with a code of ours, so a revoked device is told by an error
   * frame (`device_revoked`) just before the server closes it: the SDK signs out (onTokens(null)) and
   * closes the socket itself with DEVICE_REVOKED_CLOSE_CODE, so apps see one clear reason.
   */
  private watchRevocation(ws: WebSocket): void {
    ws.addEventListener('message', (event) => {
      let frame: { type?: unknown; code?: unknown } | undefined;
      try {
        frame = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (frame?.type !== 'error' || frame.code !== 'device_revoked') return;
      this.setTokens(null);
      if (ws.readyState === WebSocket.OPEN) ws.close(DEVICE_REVOKED_CLOSE_CODE, 'device revoked');
    });
  }

  private keepAlive(ws: WebSocket): void {
    const every = this.opts.keepAliveMs ?? KEEP_ALIVE_MS;
    if (every === 0) return;
    const timers = this.opts.timers ?? globalTimers;
    const handle = timers.setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(PING_FRAME);
    }, every);
    ws.addEventListener('close', () => timers.clearInterval(handle), { once: true });
  }
}

// ---- end-to-end encryption helpers (tweetnacl) ----------------------------------------------------

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const unb64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

// ---- device linking ---------------------------------------------------------------------------------

/** The close code the SDK uses when the server says this device was revoked (an application code, 4000-4999). */
export const DEVICE_REVOKED_CLOSE_CODE = 4003;

/** A fresh proof: the account password, or a `reauth` code for an account without one. */
export type Proof = { password: string } | { code: string };

export interface DeviceInfo {
  deviceId: string;
  name: string;
  createdAt: string;
  lastSeenAt: string;
  current: boolean;
}

export interface LinkRequest {
  linkId: string;
  /** Proves this device at claim: keep it on the device, never show it or put it in the QR code. */
  linkSecret: string;
  expiresIn: number;
  /** Epoch ms, by this device's clock. */
  expiresAt: number;
  deviceName: string;
  /** The ephemeral X25519 public key, standard base64. */
  publicKey: string;
  keyPair: nacl.BoxKeyPair;
  /** What the QR code shows: link id and public key, nothing secret. */
  qrPayload: string;
  /** Six digits both screens show; the user checks they match before approving. */
  verificationCode: string;
}

export interface LinkedDevice {
  user: unknown;
  deviceId: string;
  /** The account's keys, as every device of the account holds them. */
  keys: DeviceKeys;
}

/** The server's key for this link differs from the one scanned: do not approve (a swapped QR code or a lying server). */
export class LinkMismatch extends Error {
  constructor() {
    super('The link request does not carry the public key that was scanned');
    this.name = 'LinkMismatch';
  }
}

const QR_PREFIX = 'nexchat://link?';

/** `nexchat://link?v=1&id=<linkId>&key=<base64url public key>`: fits a small QR code, holds nothing secret. */
export function linkQrPayload(linkId: string, publicKey: string): string {
  const key = publicKey.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
  return `${QR_PREFIX}${new URLSearchParams({ v: '1', id: linkId, key })}`;
}

/** The link id and public key (standard base64) from a scanned payload; throws on anything else. */
export function parseLinkQr(payload: string): { linkId: string; publicKey: string } {
  if (!payload.startsWith(QR_PREFIX)) throw new Error('Not a NexChat link code');
  const q = new URLSearchParams(payload.slice(QR_PREFIX.length));
  const linkId = q.get('id') ?? '';
  const key = q.get('key') ?? '';
  if (q.get('v') !== '1' || !/^dl_[0-9a-f]{32}$/.test(linkId) || !/^[A-Za-z0-9_-]{43}$/.test(key)) throw new Error('Not a NexChat link code');
  return { linkId, publicKey: `${key.replaceAll('-', '+').replaceAll('_', '/')}=` };
}

/**
 * Six digits derived from the new device's ephemeral public key, shown on both screens: equal codes
 * mean the approving device boxes the keys to the device in the user's hand, not to a key swapped
 * in by someone else (or by the server). tweetnacl's SHA-512 (available wherever the SDK runs) over
 * a domain label and the key; the first 32 bits, modulo 10^6.
 */
export function linkVerificationCode(publicKey: string): string {
  const label = new TextEncoder().encode('nexchat-link-v1:');
  const key = unb64(publicKey);
  const input = new Uint8Array(label.length + key.length);
  input.set(label);
  input.set(key, label.length);
  const h = nacl.hash(input);
  const n = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
  return String(n % 1_000_000).padStart(6, '0');
}

export interface DeviceKeys {
  identity: nacl.SignKeyPair;
  box: nacl.BoxKeyPair;
}

export function generateDeviceKeys(): DeviceKeys {
  return { identity: nacl.sign.keyPair(), box: nacl.box.keyPair() };
}

/** What PUT /api/users/public-key takes: public halves only, the box key signed by the identity key. */
export function publicKeyUpload(keys: DeviceKeys) {
  return {
    identityKey: b64(keys.identity.publicKey),
    publicKey: b64(keys.box.publicKey),
    signature: b64(nacl.sign.detached(keys.box.publicKey, keys.identity.secretKey)),
  };
}

/** Checks a directory entry before trusting it: the identity key must have signed the box key. */
export function verifyPublishedKey(entry: { identityKey: string; publicKey: string; signature: string }): boolean {
  return nacl.sign.detached.verify(unb64(entry.publicKey), unb64(entry.signature), unb64(entry.identityKey));
}

export function seal(plaintext: string, recipientBoxKey: string, sender: DeviceKeys) {
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  const box = nacl.box(new TextEncoder().encode(plaintext), nonce, unb64(recipientBoxKey), sender.box.secretKey);
  return { ciphertext: b64(box), nonce: b64(nonce) };
}

export function open(message: { ciphertext: string; nonce: string }, senderBoxKey: string, recipient: DeviceKeys): string | null {
  const plain = nacl.box.open(unb64(message.ciphertext), unb64(message.nonce), unb64(senderBoxKey), recipient.box.secretKey);
  return plain ? new TextDecoder().decode(plain) : null;
}

// ---- groups: one random message key per message, boxed to each member -------------------------------

const groupPath = (conversationId: string) => `/api/groups/${encodeURIComponent(conversationId)}`;

/** A directory entry as GET /api/users/{userId}/public-key serves it. */
export interface PublishedKey {
  userId: string;
  identityKey: string;
  publicKey: string;
  signature: string;
  version: number;
  fingerprint: string;
}

/** The directory served a key its identity key did not sign: never wrap for it. */
export class KeyInvalid extends Error {
  constructor(userId: string) {
    super(`The published key of ${userId} is not signed by its identity key`);
    this.name = 'KeyInvalid';
  }
}

export interface WrappedKey {
  wrappedKey: string;
  nonce: string;
  keyVersion: number;
}

export interface GroupAck {
  clientMessageId: string;
  messageId: string;
  conversationId: string;
  sentAt: string;
}

export interface GroupSendOptions {
  /** Send over this socket (from connect()) and wait for the ack; without it, over HTTP. */
  socket?: WebSocket;
  /** Defaults to a random UUID; a retry of the same message must reuse it. */
  clientMessageId?: string;
  /** The version of `sender`'s published key; read from the directory when absent. */
  senderKeyVersion?: number;
  /** How long a socket send waits for its ack (default 10 s). */
  timeoutMs?: number;
  /** Finished uploads this message shares (uploadAttachment()); their keys go inside the text (composeMessage()). */
  attachmentIds?: string[];
}

/** A direct send's options: those of a group send, and the conversation's id when the caller knows it (saves a call over HTTP). */
export interface DirectSendOptions extends GroupSendOptions {
  conversationId?: string;
}

interface GroupMessageBody {
  clientMessageId: string;
  ciphertext: string;
  nonce: string;
  senderKeyVersion: number;
  keys: Record<string, WrappedKey>;
  attachmentIds?: string[];
}

/** `text` in a secretbox under a fresh random 32-byte key; the caller wraps the key, then wipes it. */
export function sealGroupMessage(text: string): { ciphertext: string; nonce: string; messageKey: Uint8Array } {
  const messageKey = nacl.randomBytes(nacl.secretbox.keyLength);
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  return { ciphertext: b64(nacl.secretbox(new TextEncoder().encode(text), nonce, messageKey)), nonce: b64(nonce), messageKey };
}

/** The message key boxed from the sender's box key to one member's published box key. */
export function wrapMessageKey(messageKey: Uint8Array, memberBoxKey: string, sender: DeviceKeys): { wrappedKey: string; nonce: string } {
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  return { wrappedKey: b64(nacl.box(messageKey, nonce, unb64(memberBoxKey), sender.box.secretKey)), nonce: b64(nonce) };
}

/** Opens a member's copy: its wrapped key with the sender's box key, then the secretbox. Null if either fails. */
export function openGroupMessage(
  message: { ciphertext: string; nonce: string; key?: { wrappedKey: string; nonce: string } | undefined },
  senderBoxKey: string,
  me: DeviceKeys,
): string | null {
  if (!message.key) return null;
  const messageKey = nacl.box.open(unb64(message.key.wrappedKey), unb64(message.key.nonce), unb64(senderBoxKey), me.box.secretKey);
  if (!messageKey || messageKey.length !== nacl.secretbox.keyLength) return null;
  const plain = nacl.secretbox.open(unb64(message.ciphertext), unb64(message.nonce), messageKey);
  return plain ? new TextDecoder().decode(plain) : null;
}

/**
 * Sends one frame and waits for its ack (by clientMessageId) or an error frame. Error frames name no
 * message, so callers keep one send in flight per socket (NexChatClient queues them).
 */
function socketSend(socket: WebSocket, frame: { clientMessageId: string } & Record<string, unknown>, timeoutMs = 10_000): Promise<GroupAck> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      socket.removeEventListener('message', onMessage);
      socket.removeEventListener('close', onClose);
    };
    const onMessage = (event: MessageEvent) => {
      let f: { type?: string; clientMessageId?: string; code?: string; message?: string; details?: unknown; retryAfterSeconds?: number };
      try {
        f = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (f.type === 'ack' && f.clientMessageId === frame.clientMessageId) {
        done();
        resolve(f as unknown as GroupAck);
      } else if (f.type === 'error') {
        done();
        reject(new ApiError(f.code === 'members_changed' ? 409 : 0, f.code ?? 'error', f.message ?? 'error frame', f.details, f.retryAfterSeconds));
      }
    };
    const onClose = () => {
      done();
      reject(new ApiError(0, 'socket_closed', 'The socket closed before the ack'));
    };
    const timer = setTimeout(() => {
      done();
      reject(new ApiError(0, 'ack_timeout', `No ack within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.addEventListener('message', onMessage);
    socket.addEventListener('close', onClose);
    socket.send(JSON.stringify(frame));
  });
}

// ---- encrypted attachments: the file in a secretbox under its own key, the key inside the message ------

// Portable base64 (btoa/atob exist in browsers and Node ≥ 16): the SDK's new code avoids Node's Buffer.
function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Lower-case hex SHA-256 through WebCrypto (browsers, Node ≥ 20): fast native hashing, no dependency. */
async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * What a recipient needs to fetch-and-open one file, carried only inside an encrypted message: the
 * server never sees it. `key` (32 bytes) and `nonce` (24 bytes) are standard base64; `sha256` is the
 * lower-case hex SHA-256 of the encrypted blob (what is stored and downloaded); `size` is the
 * plaintext's length in bytes (the blob is `size + 16`, secretbox's tag).
 */
export interface FileKey {
  key: string;
  nonce: string;
  sha256: string;
  size: number;
  name?: string;
  type?: string;
}

/** A finished upload: `attachmentId` goes in the send's `attachmentIds`, `file` inside the message content (composeMessage()). */
export interface UploadedAttachment {
  attachmentId: string;
  file: FileKey;
}

/**
 * A downloaded blob that is not the one the message described: its digest differs, secretbox refuses
 * it (wrong key or nonce, altered bytes), or its size is not the size announced. Never show its bytes.
 */
export class AttachmentTampered extends Error {
  readonly reason: 'digest' | 'decrypt' | 'size';
  constructor(reason: 'digest' | 'decrypt' | 'size') {
    super(
      reason === 'digest'
        ? 'The attachment’s SHA-256 digest is not the one in the message'
        : reason === 'decrypt'
          ? 'The attachment does not open with the key in the message'
          : 'The attachment’s size is not the one in the message',
    );
    this.name = 'AttachmentTampered';
    this.reason = reason;
  }
}

/** Encrypts a file for upload: a fresh random key and nonce per file (tweetnacl secretbox), the digest of the result. */
export async function encryptFile(bytes: Uint8Array, info: { name?: string; type?: string } = {}): Promise<{ blob: Uint8Array; file: FileKey }> {
  const key = nacl.randomBytes(nacl.secretbox.keyLength);
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  const blob = nacl.secretbox(bytes, nonce, key);
  const file: FileKey = { key: toBase64(key), nonce: toBase64(nonce), sha256: await sha256Hex(blob), size: bytes.byteLength };
  key.fill(0);
  if (info.name !== undefined) file.name = info.name;
  if (info.type !== undefined) file.type = info.type;
  return { blob, file };
}

/** The key and nonce of a FileKey as bytes; a TypeError for anything that is not one (a malformed message). */
function fileSecrets(file: FileKey): { key: Uint8Array; nonce: Uint8Array } {
  const bytes = (text: unknown, length: number) => {
    try {
      const b = typeof text === 'string' ? fromBase64(text) : undefined;
      return b?.length === length ? b : undefined;
    } catch {
      return undefined;
    }
  };
  const key = bytes(file.key, nacl.secretbox.keyLength);
  const nonce = bytes(file.nonce, nacl.secretbox.nonceLength);
  if (!key || !nonce || typeof file.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(file.sha256) || !Number.isSafeInteger(file.size) || file.size < 0) {
    throw new TypeError('Not a file key: key (32 bytes), nonce (24 bytes) in base64, sha256 in hex and a size are required');
  }
  return { key, nonce };
}

/**
 * Opens a downloaded blob. The digest is checked first (a swapped or altered blob is refused before
 * any decryption), then secretbox's own authentication, then the plaintext size. Throws
 * `AttachmentTampered` (with `reason`) on any of them, a TypeError on a malformed `file`.
 */
export async function decryptFile(blob: Uint8Array, file: FileKey): Promise<Uint8Array> {
  const { key, nonce } = fileSecrets(file);
  if ((await sha256Hex(blob)) !== file.sha256.toLowerCase()) throw new AttachmentTampered('digest');
  const plain = nacl.secretbox.open(blob, nonce, key);
  key.fill(0);
  if (!plain) throw new AttachmentTampered('decrypt');
  if (plain.byteLength !== file.size) throw new AttachmentTampered('size');
  return plain;
}

/** What parseMessage() finds in a decrypted message: its text and the files it carries keys for. */
export interface MessageContent {
  text: string;
  files: UploadedAttachment[];
}

const CONTENT_MARKER = 'nexchat.message';

/**
 * The plaintext to seal for a message (seal(), sendDirectMessage(), sendGroupMessage()). Without files
 * it is `text` itself, as messages always were, so older clients show it unchanged; with files it is
 * JSON `{"nexchat":"nexchat.message","v":1,"text":…,"files":[{attachmentId,key,nonce,sha256,size,name?,type?}]}`.
 * Send the same attachments' ids in `attachmentIds`, or recipients cannot download them.
 */
export function composeMessage(text: string, files: UploadedAttachment[] = []): string {
  if (files.length === 0) return text;
  return JSON.stringify({ nexchat: CONTENT_MARKER, v: 1, text, files: files.map((f) => ({ attachmentId: f.attachmentId, ...f.file })) });
}

/**
 * The inverse of composeMessage() on an opened message: JSON with the marker gives its text and files
 * (entries that are not a well-formed file key are left out); anything else is plain text, no files.
 */
export function parseMessage(plaintext: string): MessageContent {
  let value: unknown;
  try {
    value = plaintext.startsWith('{') ? JSON.parse(plaintext) : undefined;
  } catch {
    value = undefined;
  }
  const v = value as { nexchat?: unknown; v?: unknown; text?: unknown; files?: unknown } | undefined;
  if (!v || v.nexchat !== CONTENT_MARKER || v.v !== 1 || typeof v.text !== 'string' || !Array.isArray(v.files)) return { text: plaintext, files: [] };
  const files: UploadedAttachment[] = [];
  for (const entry of v.files as Record<string, unknown>[]) {
    if (!entry || typeof entry !== 'object' || typeof entry.attachmentId !== 'string') continue;
    const file: FileKey = { key: entry.key as string, nonce: entry.nonce as string, sha256: entry.sha256 as string, size: entry.size as number };
    if (typeof entry.name === 'string') file.name = entry.name;
    if (typeof entry.type === 'string') file.type = entry.type;
    try {
      fileSecrets(file);
    } catch {
      continue;
    }
    files.push({ attachmentId: entry.attachmentId, file });
  }
  return { text: v.text, files };
}

// ---- presigned transfers: straight to object storage, never with the API's bearer token ---------------

/** A presigned request as the attachment routes describe it (contract/attachments/schemas.ts `transfer`). */
export interface Transfer {
  url: string;
  method: 'PUT' | 'GET';
  headers: Record<string, string>;
}

export interface TransferOptions {
  /** Bytes moved so far of `total` (the encrypted size): never decreasing; `sent === total` once, at the end. */
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
}

export interface UploadOptions extends TransferOptions {
  /** File name and MIME type, kept inside the FileKey (encrypted), never sent to the server in the clear. */
  name?: string;
  type?: string;
}

/** Chunk size for streamed uploads in Node: progress moves in steps of this much. */
export const UPLOAD_CHUNK_BYTES = 64 * 1024;

/** Only what the SDK touches of XMLHttpRequest (the SDK compiles without the DOM library). */
interface Xhr {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: Uint8Array): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  upload: { onprogress: ((e: { loaded: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

/** Progress that only moves forward, never repeats, and reaches `total` only when the storage said yes. */
function progressReporter(total: number, onProgress?: (sent: number, total: number) => void) {
  let last = -1;
  return (sent: number, final = false) => {
    const n = final ? total : Math.min(sent, total - 1);
    if (onProgress && n > last) {
      last = n;
      onProgress(n, total);
    }
  };
}

/** The storage's refusal as an ApiError: S3 answers XML, whose <Code> becomes `details.storageCode`. */
function storageError(status: number, body: string, what: string): ApiError {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? 'unknown';
  return new ApiError(status, `${what}_refused`, `The storage refused the ${what} (${status} ${code})`, { storageCode: code });
}

function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/**
 * PUTs `blob` to a presigned URL with exactly its headers. With XMLHttpRequest (browsers) progress
 * comes from `upload.onprogress`; fetch has no upload progress there, and a streamed fetch body would
 * need HTTP/2 and chunked encoding, which a signed Content-Length refuses. Without it (Node), fetch
 * gets a pull-based ReadableStream and the Content-Length header: undici then sends that length, not
 * chunked (tests/attachments-client.test.ts checks it against the local S3), and each pull reports the
 * bytes undici has taken so far.
 */
async function putPresigned(doFetch: typeof fetch, upload: Transfer, blob: Uint8Array, opts: TransferOptions): Promise<void> {
  const report = progressReporter(blob.byteLength, opts.onProgress);
  opts.signal?.throwIfAborted();
  report(0);
  const XhrClass = (globalThis as { XMLHttpRequest?: new () => Xhr }).XMLHttpRequest;
  if (XhrClass) {
    await new Promise<void>((resolve, reject) => {
      const xhr = new XhrClass();
      const onAbort = () => xhr.abort();
      const settle = (fn: () => void) => {
        opts.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      xhr.open(upload.method, upload.url);
      // Content-Length is a forbidden header for XHR: the browser sets it from the body, the same number
      for (const [name, value] of Object.entries(upload.headers)) if (name.toLowerCase() !== 'content-length') xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (e) => report(e.loaded);
      xhr.onload = () => settle(() => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(storageError(xhr.status, xhr.responseText, 'upload'))));
      xhr.onerror = () => settle(() => reject(new ApiError(0, 'network_error', 'The upload did not reach the storage')));
      xhr.onabort = () => settle(() => reject(abortReason(opts.signal)));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      xhr.send(blob);
    });
  } else {
    let offset = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        // called when undici wants the next chunk, i.e. once it has taken every byte before `offset`
        pull(controller) {
          report(offset);
          if (offset >= blob.byteLength) return controller.close();
          const end = Math.min(offset + UPLOAD_CHUNK_BYTES, blob.byteLength);
          controller.enqueue(blob.subarray(offset, end));
          offset = end;
        },
      },
      { highWaterMark: 0 },
    );
    const headers = { ...upload.headers };
    // without a Content-Length undici streams chunked, which a signature over the length refuses
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['Content-Length'] = String(blob.byteLength);
    const init = { method: upload.method, headers, body, duplex: 'half', ...(opts.signal ? { signal: opts.signal } : {}) } as RequestInit;
    const res = await doFetch(upload.url, init);
    const text = await res.text();
    if (!res.ok) throw storageError(res.status, text, 'upload');
  }
  report(blob.byteLength, true);
}

/** GETs a presigned URL, reading the body as it streams (progress per chunk) and at most `size` bytes of it. */
async function getPresigned(doFetch: typeof fetch, download: Transfer, size: number, opts: TransferOptions): Promise<Uint8Array> {
  const report = progressReporter(size, opts.onProgress);
  opts.signal?.throwIfAborted();
  const res = await doFetch(download.url, { method: download.method, headers: download.headers, ...(opts.signal ? { signal: opts.signal } : {}) });
  if (!res.ok) throw storageError(res.status, await res.text(), 'download');
  const blob = new Uint8Array(size);
  let received = 0;
  report(0);
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (received + value.byteLength > size) {
      await reader.cancel();
      throw new AttachmentTampered('size');
    }
    blob.set(value, received);
    received += value.byteLength;
    report(received);
  }
  if (received !== size) throw new AttachmentTampered('size');
  report(size, true);
  return blob;
}
