// Groups: management calls, and messages as one random key per message (secretbox), boxed to every
// current member's published key; a `members_changed` answer is wrapped again for the members it names.
import type { Message } from '../../contract/conversations/schemas.ts';
import type { Group, GroupRole, Invitation } from '../../contract/groups/schemas.ts';
import { randomId } from './bytes.ts';
import { openGroupMessage, sealGroupMessage, wrapMessageKey, type DeviceKeys, type WrappedKey } from './crypto.ts';
import { ApiError } from './errors.ts';
import type { ApiClient, CallOptions } from './http.ts';
import type { KeyDirectory } from './keys.ts';
import { queuedSocketSend, type GroupAck, type RealtimeSession } from './realtime.ts';

export interface GroupSendOptions extends CallOptions {
  /** Send through this realtime session (client.realtime()) and wait for the ack; it resends after a reconnect. */
  realtime?: RealtimeSession;
  /** Send over this socket (from connect()) and wait for the ack; without it (or `realtime`), over HTTP. */
  socket?: WebSocket;
  /** Defaults to a random UUID; a retry of the same message must reuse it. */
  clientMessageId?: string;
  /** The version of `sender`'s published key; read from the directory when absent. */
  senderKeyVersion?: number;
  /** Finished uploads this message shares (uploadAttachment()); their keys go inside the text (composeMessage()). */
  attachmentIds?: string[];
}

interface GroupMessageBody {
  clientMessageId: string;
  ciphertext: string;
  nonce: string;
  senderKeyVersion: number;
  keys: Record<string, WrappedKey>;
  attachmentIds?: string[];
}

export const groupPath = (conversationId: string) => `/api/groups/${encodeURIComponent(conversationId)}`;

/** Group calls and sends; NexChatClient exposes them as its own methods. */
export class Groups {
  private readonly api: ApiClient;
  private readonly directory: KeyDirectory;
  /** The member set (userId → key version) each group was last seen with: what the next send wraps for. */
  private readonly keyVersions = new Map<string, Map<string, number>>();

  constructor(api: ApiClient, directory: KeyDirectory) {
    this.api = api;
    this.directory = directory;
  }

  async create(name: string, memberIds: string[] = [], opts: CallOptions = {}): Promise<string> {
    return (await this.api.call('CreateGroup', { body: { name, memberIds } }, opts)).conversationId;
  }

  async get(conversationId: string, opts: CallOptions = {}): Promise<Group> {
    const g = await this.api.call('GetGroup', { path: { conversationId } }, opts);
    this.keyVersions.set(conversationId, new Map(g.members.flatMap((m) => (m.keyVersion === undefined ? [] : [[m.userId, m.keyVersion] as const]))));
    return g;
  }

  rename(conversationId: string, name: string, opts: CallOptions = {}): Promise<{ conversationId: string; name: string }> {
    return this.api.call('RenameGroup', { path: { conversationId }, body: { name } }, opts);
  }

  async invite(conversationId: string, userIds: string[], opts: CallOptions = {}): Promise<void> {
    await this.api.call('InviteGroupMembers', { path: { conversationId }, body: { userIds } }, opts);
  }

  async removeMember(conversationId: string, userId: string, opts: CallOptions = {}): Promise<void> {
    await this.api.call('RemoveGroupMember', { path: { conversationId, userId } }, opts);
    this.keyVersions.get(conversationId)?.delete(userId);
  }

  async setRole(conversationId: string, userId: string, role: GroupRole, opts: CallOptions = {}): Promise<void> {
    await this.api.call('SetGroupMemberRole', { path: { conversationId, userId }, body: { role } }, opts);
  }

  async leave(conversationId: string, opts: CallOptions = {}): Promise<void> {
    await this.api.call('LeaveGroup', { path: { conversationId } }, opts);
    this.keyVersions.delete(conversationId);
  }

  invitations(cursor?: string, opts: CallOptions = {}): Promise<{ invitations: Invitation[]; cursor?: string | undefined }> {
    return this.api.call('ListGroupInvitations', { query: { cursor } }, opts);
  }

  accept(conversationId: string, opts: CallOptions = {}): Promise<{ conversationId: string; joinedAt: string }> {
    return this.api.call('AcceptGroupInvitation', { path: { conversationId } }, opts);
  }

  async decline(conversationId: string, opts: CallOptions = {}): Promise<void> {
    await this.api.call('DeclineGroupInvitation', { path: { conversationId } }, opts);
  }

  /** NexChatClient.sendGroupMessage(). */
  async send(conversationId: string, text: string, sender: DeviceKeys, opts: GroupSendOptions = {}): Promise<GroupAck> {
    let members = this.keyVersions.get(conversationId);
    if (!members) {
      await this.get(conversationId, opts);
      members = this.keyVersions.get(conversationId)!;
    }
    const senderKeyVersion = opts.senderKeyVersion ?? (await this.directory.own(sender, opts)).version;
    const sealed = sealGroupMessage(text);
    const clientMessageId = opts.clientMessageId ?? randomId();
    const attempt = async (versions: Map<string, number>) =>
      this.deliver(
        conversationId,
        {
          clientMessageId,
          ciphertext: sealed.ciphertext,
          nonce: sealed.nonce,
          senderKeyVersion,
          keys: await this.wrapFor(sealed.messageKey, versions, sender, opts),
          ...(opts.attachmentIds?.length ? { attachmentIds: opts.attachmentIds } : {}),
        },
        opts,
      );
    try {
      return await attempt(members);
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'members_changed' || !error.details || typeof error.details !== 'object') throw error;
      const current = new Map(Object.entries(error.details as Record<string, number>).filter(([, v]) => typeof v === 'number'));
      this.keyVersions.set(conversationId, current);
      return await attempt(current); // awaited: the finally wipes the key only after the re-wrap
    } finally {
      sealed.messageKey.fill(0);
    }
  }

  /** NexChatClient.openGroupMessage(). */
  async open(
    message: Pick<Message, 'senderId' | 'senderKeyVersion' | 'ciphertext' | 'nonce' | 'key'>,
    me: DeviceKeys,
    opts: CallOptions = {},
  ): Promise<string | null> {
    if (!message.key) return null;
    const senderKey = await this.directory.publicKey(message.senderId, message.senderKeyVersion, opts);
    if (senderKey.version !== message.senderKeyVersion) return null; // rotated before this client saw that version
    return openGroupMessage(message, senderKey.publicKey, me);
  }

  /** The message key boxed to every member's published key (sender included), in parallel, 10 lookups at a time. */
  private async wrapFor(messageKey: Uint8Array, versions: Map<string, number>, sender: DeviceKeys, opts: CallOptions): Promise<Record<string, WrappedKey>> {
    const ids = [...versions.keys()];
    const keys: Record<string, WrappedKey> = {};
    for (let i = 0; i < ids.length; i += 10) {
      await Promise.all(
        ids.slice(i, i + 10).map(async (userId) => {
          const entry = await this.directory.publicKey(userId, versions.get(userId)!, opts);
          keys[userId] = { ...wrapMessageKey(messageKey, entry.publicKey, sender), keyVersion: entry.version };
        }),
      );
    }
    return keys;
  }

  private async deliver(conversationId: string, body: GroupMessageBody, opts: GroupSendOptions): Promise<GroupAck> {
    if (opts.realtime) return opts.realtime.send({ conversationId, ...body }, opts);
    if (!opts.socket) return this.api.call('PostGroupMessage', { path: { conversationId }, body }, opts);
    return queuedSocketSend(opts.socket, { action: 'sendMessage', conversationId, ...body }, opts.timeoutMs);
  }
}
