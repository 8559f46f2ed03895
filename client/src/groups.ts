// Groups: management calls, and messages as one random key per message (secretbox), boxed to every
// current member's published key; a `members_changed` answer is wrapped again for the members it names.
import type { Message } from '../../contract/conversations/schemas.ts';
import type { Group, GroupRole, Invitation } from '../../contract/groups/schemas.ts';
import { randomId } from './bytes.ts';
import { openGroupMessage, sealGroupMessage, wrapMessageKey, type DeviceKeys, type WrappedKey } from './crypto.ts';
import { ApiError } from './errors.ts';
import type { ApiClient } from './http.ts';
import type { KeyDirectory } from './keys.ts';
import { queuedSocketSend, type GroupAck } from './realtime.ts';

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

  async create(name: string, memberIds: string[] = []): Promise<string> {
    return (await this.api.request<{ conversationId: string }>('POST', '/api/groups', { name, memberIds })).conversationId;
  }

  async get(conversationId: string): Promise<Group> {
    const g = await this.api.request<Group>('GET', groupPath(conversationId));
    this.keyVersions.set(conversationId, new Map(g.members.flatMap((m) => (m.keyVersion === undefined ? [] : [[m.userId, m.keyVersion] as const]))));
    return g;
  }

  rename(conversationId: string, name: string): Promise<{ conversationId: string; name: string }> {
    return this.api.request('PATCH', groupPath(conversationId), { name });
  }

  async invite(conversationId: string, userIds: string[]): Promise<void> {
    await this.api.request('POST', `${groupPath(conversationId)}/members`, { userIds });
  }

  async removeMember(conversationId: string, userId: string): Promise<void> {
    await this.api.request('DELETE', `${groupPath(conversationId)}/members/${encodeURIComponent(userId)}`);
    this.keyVersions.get(conversationId)?.delete(userId);
  }

  async setRole(conversationId: string, userId: string, role: GroupRole): Promise<void> {
    await this.api.request('PUT', `${groupPath(conversationId)}/members/${encodeURIComponent(userId)}/role`, { role });
  }

  async leave(conversationId: string): Promise<void> {
    await this.api.request('POST', `${groupPath(conversationId)}/leave`);
    this.keyVersions.delete(conversationId);
  }

  invitations(cursor?: string): Promise<{ invitations: Invitation[]; cursor?: string }> {
    return this.api.request('GET', `/api/groups/invitations${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`);
  }

  accept(conversationId: string): Promise<{ conversationId: string; joinedAt: string }> {
    return this.api.request('POST', `${groupPath(conversationId)}/invitations/accept`);
  }

  async decline(conversationId: string): Promise<void> {
    await this.api.request('POST', `${groupPath(conversationId)}/invitations/decline`);
  }

  /** NexChatClient.sendGroupMessage(). */
  async send(conversationId: string, text: string, sender: DeviceKeys, opts: GroupSendOptions = {}): Promise<GroupAck> {
    let members = this.keyVersions.get(conversationId);
    if (!members) {
      await this.get(conversationId);
      members = this.keyVersions.get(conversationId)!;
    }
    const senderKeyVersion = opts.senderKeyVersion ?? (await this.directory.own(sender)).version;
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
      this.keyVersions.set(conversationId, current);
      return await attempt(current); // awaited: the finally wipes the key only after the re-wrap
    } finally {
      sealed.messageKey.fill(0);
    }
  }

  /** NexChatClient.openGroupMessage(). */
  async open(message: Pick<Message, 'senderId' | 'senderKeyVersion' | 'ciphertext' | 'nonce' | 'key'>, me: DeviceKeys): Promise<string | null> {
    if (!message.key) return null;
    const senderKey = await this.directory.publicKey(message.senderId, message.senderKeyVersion);
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
          const entry = await this.directory.publicKey(userId, versions.get(userId)!);
          keys[userId] = { ...wrapMessageKey(messageKey, entry.publicKey, sender), keyVersion: entry.version };
        }),
      );
    }
    return keys;
  }

  private async deliver(conversationId: string, body: GroupMessageBody, { socket, timeoutMs }: GroupSendOptions): Promise<GroupAck> {
    if (!socket) return this.api.request<GroupAck>('POST', `${groupPath(conversationId)}/messages`, body);
    return queuedSocketSend(socket, { action: 'sendMessage', conversationId, ...body }, timeoutMs);
  }
}
