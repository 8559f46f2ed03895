// NexChatClient: the one object an app holds. HTTP calls with transparent token refresh (http.ts), and
// the friendly methods over them: auth, devices and linking, the key directory, direct and group
// messages, attachments, and the WebSocket.
import type { Message } from '../../contract/conversations/schemas.ts';
import type { Group, GroupRole, Invitation } from '../../contract/groups/schemas.ts';
import { publicKeyUpload, type DeviceKeys, type PublishedKey } from './crypto.ts';
import { DirectMessages, type DirectSendOptions } from './direct.ts';
import { ApiError } from './errors.ts';
import { downloadAttachment, uploadAttachment, type FileKey, type TransferOptions, type UploadedAttachment, type UploadOptions } from './files.ts';
import { Groups, type GroupSendOptions } from './groups.ts';
import { ApiClient, type CallOptions, type ClientOptions, type RouteInput, type RouteOutput } from './http.ts';
import { KeyDirectory } from './keys.ts';
import { MemoryKeyStore } from './stores/memory.ts';
import type { IdentityChange, TrustedKey } from './trust.ts';
import { approveLink, claimLink, requestLink, type DeviceInfo, type LinkedDevice, type LinkRequest, type Proof } from './linking.ts';
import { checkKeepAlive, connectSocket, KEEP_ALIVE_MS, RealtimeSession, type GroupAck, type RealtimeOptions } from './realtime.ts';

export class NexChatClient extends ApiClient {
  private readonly directory: KeyDirectory;
  private readonly groups: Groups;
  private readonly direct: DirectMessages;

  constructor(opts: ClientOptions) {
    super(opts);
    checkKeepAlive(opts.keepAliveMs ?? KEEP_ALIVE_MS);
    this.directory = new KeyDirectory(this, opts.keyStore ?? new MemoryKeyStore());
    this.groups = new Groups(this, this.directory);
    this.direct = new DirectMessages(this, this.directory);
  }

  // ---- auth ---------------------------------------------------------------------------------

  /** Sends a one-time code (dev: the outbox) for `purpose`; answers the same whether or not the destination is known. */
  requestOtp(
    channel: RouteInput<'RequestOtp'>['body']['channel'],
    destination: string,
    purpose: RouteInput<'RequestOtp'>['body']['purpose'],
    opts: CallOptions = {},
  ): Promise<RouteOutput<'RequestOtp'>> {
    return this.call('RequestOtp', { body: { channel, destination, purpose } }, opts);
  }

  /** Creates the account and signs this device in; returns the user. */
  async register(input: RouteInput<'Register'>['body'], opts: CallOptions = {}): Promise<RouteOutput<'Register'>['user']> {
    const res = await this.call('Register', { body: input }, opts);
    this.acceptTokens(res);
    return res.user;
  }

  /** Returns the user, or `{ otpRequired: true, ... }` when this deployment wants a code too. */
  async login(input: RouteInput<'Login'>['body'], opts: CallOptions = {}) {
    const res = await this.call('Login', { body: input }, opts);
    if ('otpRequired' in res) return res;
    this.acceptTokens(res);
    return res.user;
  }

  /** Ends this session (its sockets close with 4001 signed_out); the tokens are forgotten whatever the answer. */
  async logout(opts: CallOptions = {}): Promise<void> {
    try {
      await this.call('Logout', {}, opts);
    } finally {
      this.setTokens(null);
    }
  }

  // ---- devices ---------------------------------------------------------------------------------

  /** This account's signed-in devices; `current` marks this one. */
  async devices(opts: CallOptions = {}): Promise<DeviceInfo[]> {
    return (await this.call('ListDevices', {}, opts)).devices;
  }

  renameDevice(deviceId: string, name: string, opts: CallOptions = {}): Promise<DeviceInfo> {
    return this.call('RenameDevice', { path: { deviceId }, body: { name } }, opts);
  }

  /** Signs a device out (its tokens stop at once, its sockets close); takes the password, or a `reauth` code. */
  async revokeDevice(deviceId: string, proof: Proof, opts: CallOptions = {}): Promise<void> {
    await this.call('RevokeDevice', { path: { deviceId }, body: proof }, opts);
  }

  /**
   * On the new, signed-out device: an ephemeral X25519 key pair and a link request. Show
   * `qrPayload` (and `verificationCode`, which the approving device shows too) and keep the request
   * for claimLink(); it expires after `expiresIn` seconds.
   */
  requestLink(deviceName: string, opts: CallOptions = {}): Promise<LinkRequest> {
    return requestLink(this, deviceName, opts);
  }

  /**
   * On a signed-in device: `scanned` is parseLinkQr() of the new device's code. The server's copy of
   * the key must match it, and the user must see the same verificationCode on both screens before
   * calling this. The account's secret keys go to the new device boxed to its key: the server relays
   * ciphertext only.
   */
  approveLink(scanned: { linkId: string; publicKey: string }, accountKeys: DeviceKeys, proof: Proof, opts: CallOptions = {}): Promise<void> {
    return approveLink(this, scanned, accountKeys, proof, opts);
  }

  /**
   * On the new device, once approved: signs in as a new device of the account and opens the relayed
   * box. A link that is not approved yet answers like an unknown one (404 link_not_found): see
   * waitForLink() to poll.
   */
  claimLink(request: LinkRequest, opts: CallOptions = {}): Promise<LinkedDevice> {
    return claimLink(this, this.directory, request, opts);
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

  /**
   * A user's published key from the directory, its signature checked (a key the identity key did not
   * sign is refused with `KeyInvalid`). Cached per version: with `version`, a cached entry of exactly
   * that version, else the directory's current one (which may be another version: check `.version`);
   * without, the newest cached or the directory's.
   */
  publicKey(userId: string, version?: number, opts: CallOptions = {}): Promise<PublishedKey> {
    return this.directory.publicKey(userId, version, opts);
  }

  /** Publishes `keys`' public halves (the box key signed by the identity key); returns the directory's entry. */
  async publishKeys(keys: DeviceKeys, opts: CallOptions = {}) {
    return this.call('PutPublicKey', { body: publicKeyUpload(keys) }, opts);
  }

  /**
   * Trust on first use: `listener` hears when a user's identity key is not the one this client trusted
   * before (a reinstall, a new phone, or an attack): show it, and compare safety numbers again.
   */
  onIdentityChanged(listener: (change: IdentityChange) => void): () => void {
    return this.directory.onIdentityChanged(listener);
  }

  /** The 60-digit safety number to compare with `userId` in person (both fingerprints computed locally). */
  safetyNumber(userId: string, mine: DeviceKeys, opts: CallOptions = {}): Promise<{ safetyNumber: string; mine: string; theirs: string }> {
    return this.directory.safetyNumber(userId, mine, opts);
  }

  /** Records that the safety numbers matched (cleared by the next identity change). */
  markVerified(userId: string, opts: CallOptions = {}): Promise<TrustedKey> {
    return this.directory.markVerified(userId, opts);
  }

  /** What this client trusts for `userId` (undefined before the first lookup). */
  trustedKey(userId: string): Promise<TrustedKey | undefined> {
    return this.directory.store.get(userId);
  }

  // ---- groups -----------------------------------------------------------------------------------

  /** Creates a group with the caller as admin; everyone in `memberIds` is invited (joins by accepting). */
  createGroup(name: string, memberIds: string[] = [], opts: CallOptions = {}): Promise<string> {
    return this.groups.create(name, memberIds, opts);
  }

  /** The group, the caller's role and the members with roles and key versions (members only; 404 otherwise). */
  group(conversationId: string, opts: CallOptions = {}): Promise<Group> {
    return this.groups.get(conversationId, opts);
  }

  renameGroup(conversationId: string, name: string, opts: CallOptions = {}): Promise<{ conversationId: string; name: string }> {
    return this.groups.rename(conversationId, name, opts);
  }

  /** Invites up to 20 people (admins only); unknown users, members and people who block the caller are skipped silently. */
  inviteToGroup(conversationId: string, userIds: string[], opts: CallOptions = {}): Promise<void> {
    return this.groups.invite(conversationId, userIds, opts);
  }

  removeGroupMember(conversationId: string, userId: string, opts: CallOptions = {}): Promise<void> {
    return this.groups.removeMember(conversationId, userId, opts);
  }

  setGroupRole(conversationId: string, userId: string, role: GroupRole, opts: CallOptions = {}): Promise<void> {
    return this.groups.setRole(conversationId, userId, role, opts);
  }

  leaveGroup(conversationId: string, opts: CallOptions = {}): Promise<void> {
    return this.groups.leave(conversationId, opts);
  }

  /** Pending invitations to the caller, newest first, with a cursor for the next page. */
  groupInvitations(cursor?: string, opts: CallOptions = {}): Promise<{ invitations: Invitation[]; cursor?: string | undefined }> {
    return this.groups.invitations(cursor, opts);
  }

  acceptInvitation(conversationId: string, opts: CallOptions = {}): Promise<{ conversationId: string; joinedAt: string }> {
    return this.groups.accept(conversationId, opts);
  }

  declineInvitation(conversationId: string, opts: CallOptions = {}): Promise<void> {
    return this.groups.decline(conversationId, opts);
  }

  /**
   * Encrypts `text` for the group as last seen (group() loads it when this client has not) and sends
   * it, over `socket` if given (waiting for the ack), else over HTTP. A `members_changed` answer
   * carries the current members and key versions: the message key is wrapped again for exactly those
   * (keys refetched where the version moved) and sent once more with the same clientMessageId; a
   * second `members_changed` is thrown. Returns the ack.
   */
  sendGroupMessage(conversationId: string, text: string, sender: DeviceKeys, opts: GroupSendOptions = {}): Promise<GroupAck> {
    return this.groups.send(conversationId, text, sender, opts);
  }

  /**
   * Opens a group message (a `message` frame, a history or sync entry): unwraps this member's key with
   * the sender's published key at `senderKeyVersion`, then the secretbox. Null when it does not open:
   * no key for this reader, a key version this client never saw, or tampering.
   */
  openGroupMessage(
    message: Pick<Message, 'senderId' | 'senderKeyVersion' | 'ciphertext' | 'nonce' | 'key'>,
    me: DeviceKeys,
    opts: CallOptions = {},
  ): Promise<string | null> {
    return this.groups.open(message, me, opts);
  }

  // ---- direct messages --------------------------------------------------------------------------

  /** The direct conversation with `userId` (created once, server side); its id is what uploads and HTTP sends name. */
  directConversation(userId: string, opts: CallOptions = {}): Promise<string> {
    return this.direct.conversation(userId, opts);
  }

  /**
   * Seals `text` (composeMessage() when it carries files) to `to`'s published key (signature checked)
   * and sends it, over `socket` if given (waiting for the ack), else over HTTP. `attachmentIds` shares
   * finished uploads. Returns the ack.
   */
  sendDirectMessage(to: string, text: string, sender: DeviceKeys, opts: DirectSendOptions = {}): Promise<GroupAck> {
    return this.direct.send(to, text, sender, opts);
  }

  /**
   * Opens a direct message (a `message` frame, a history or sync entry) with the other side's published
   * key at the version the message names: the sender's when `me` received it, the recipient's when it
   * is one of the caller's own sends. Null when it does not open.
   */
  openDirectMessage(
    message: Pick<Message, 'senderId' | 'recipientId' | 'senderKeyVersion' | 'recipientKeyVersion' | 'ciphertext' | 'nonce'>,
    me: DeviceKeys,
    opts: CallOptions = {},
  ): Promise<string | null> {
    return this.direct.open(message, me, opts);
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
  uploadAttachment(conversationId: string, bytes: Uint8Array, opts: UploadOptions = {}): Promise<UploadedAttachment> {
    return uploadAttachment(this, conversationId, bytes, opts);
  }

  /**
   * Fetches an attachment a message shared (GET /api/attachments/{id}, then the presigned URL, with
   * progress as the body streams) and opens it with the FileKey from that message (decryptFile():
   * digest first). Throws `AttachmentTampered` when the stored size, digest or secretbox disagree.
   */
  downloadAttachment(attachmentId: string, file: FileKey, opts: TransferOptions = {}): Promise<Uint8Array> {
    return downloadAttachment(this, attachmentId, file, opts);
  }

  // ---- realtime -------------------------------------------------------------------------------

  /**
   * Opens the WebSocket with a fresh single-use ticket (tokens never go in URLs). While it is open it
   * pings every `keepAliveMs` (the `pong` answers arrive like any frame: ignore them); closing it
   * stops the pings. API Gateway still closes every socket after 2 hours: reconnect on `close`.
   */
  connect(): Promise<WebSocket> {
    return connectSocket(this);
  }

  /**
   * A realtime session that stays connected (RealtimeSession): a fresh ticket per connect, reconnects
   * with backoff, typed events, sends resolved by their ack and resent after a reconnect, and a
   * catch-up through GET /api/messages/sync. Call `start()` on it.
   */
  realtime(options: RealtimeOptions = {}): RealtimeSession {
    return new RealtimeSession(this, options);
  }
}
