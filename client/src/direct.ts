// Direct (1:1) messages: sealed to the peer's published key (signature checked), sent over the socket
// or HTTP, opened with the key version the message names.
import type { Message } from '../../contract/conversations/schemas.ts';
import { randomId } from './bytes.ts';
import { open, seal, type DeviceKeys } from './crypto.ts';
import type { GroupSendOptions } from './groups.ts';
import type { ApiClient, CallOptions } from './http.ts';
import type { KeyDirectory } from './keys.ts';
import { queuedSocketSend, type GroupAck } from './realtime.ts';

/** A direct send's options: those of a group send, and the conversation's id when the caller knows it (saves a call over HTTP). */
export interface DirectSendOptions extends GroupSendOptions {
  conversationId?: string;
}

export class DirectMessages {
  private readonly api: ApiClient;
  private readonly directory: KeyDirectory;
  /** Direct conversation ids by peer, once known: a send over HTTP needs the id, and it never changes. */
  private readonly ids = new Map<string, string>();

  constructor(api: ApiClient, directory: KeyDirectory) {
    this.api = api;
    this.directory = directory;
  }

  async conversation(userId: string, opts: CallOptions = {}): Promise<string> {
    const known = this.ids.get(userId);
    if (known) return known;
    const { conversationId } = await this.api.call('CreateConversation', { body: { userId } }, opts);
    this.ids.set(userId, conversationId);
    return conversationId;
  }

  async send(to: string, text: string, sender: DeviceKeys, opts: DirectSendOptions = {}): Promise<GroupAck> {
    const recipient = await this.directory.publicKey(to, undefined, opts);
    const senderKeyVersion = opts.senderKeyVersion ?? (await this.directory.own(sender, opts)).version;
    const body = {
      clientMessageId: opts.clientMessageId ?? randomId(),
      ...seal(text, recipient.publicKey, sender),
      senderKeyVersion,
      recipientKeyVersion: recipient.version,
      ...(opts.attachmentIds?.length ? { attachmentIds: opts.attachmentIds } : {}),
    };
    if (opts.realtime) return opts.realtime.send({ to, ...body }, opts);
    if (opts.socket) return queuedSocketSend(opts.socket, { action: 'sendMessage', to, ...body }, opts.timeoutMs);
    const conversationId = opts.conversationId ?? (await this.conversation(to, opts));
    return this.api.call('PostMessage', { path: { conversationId }, body }, opts);
  }

  async open(
    message: Pick<Message, 'senderId' | 'recipientId' | 'senderKeyVersion' | 'recipientKeyVersion' | 'ciphertext' | 'nonce'>,
    me: DeviceKeys,
    opts: CallOptions = {},
  ): Promise<string | null> {
    const mine = message.senderId === (await this.api.ownUserId(opts));
    const [peer, version] = mine ? [message.recipientId, message.recipientKeyVersion] : [message.senderId, message.senderKeyVersion];
    const entry = await this.directory.publicKey(peer, version, opts);
    return entry.version === version ? open(message, entry.publicKey, me) : null;
  }
}
