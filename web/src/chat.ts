// The signed-in page: the conversation list with unread counts, one open chat (history, live messages,
// typing, receipts, presence, attachments), people search, groups and invitations, block and report,
// safety numbers and approving a new device. Live events come from the SDK's realtime session
// (client.realtime(): reconnects, and catches up through /api/messages/sync after every connect).
import {
  ApiError,
  closeCodes,
  composeMessage,
  fingerprint,
  linkVerificationCode,
  parseLinkQr,
  parseMessage,
  type DeviceKeys,
  type IncomingMessage,
  type NexChatClient,
  type RealtimeSession,
  type UploadedAttachment,
} from '../../client/index.ts';
import type { Conversation, Message } from '../../contract/conversations/schemas.ts';
import type { Group, Invitation } from '../../contract/groups/schemas.ts';
import { $, bytesText, h, show, timeOf } from './dom.ts';
import type { Me } from './main.ts';
import { loadCursor, markVerified, saveCursor, verifiedFingerprint } from './store.ts';
import { dialog, errorText, notice, setConnection } from './ui.ts';

interface Chat {
  id: string;
  kind: 'direct' | 'group';
  title: string;
  peerId?: string;
  unread: number;
  lastAt: string;
  /** The newest message this page knows of (the server's list, or a live message newer than it): unread counts go by it. */
  lastMessageId?: string;
  /** The newest message the server's list named for it. */
  listedUpTo?: string;
  /** Messages that arrived live or by catch-up, newest last (a few): opening the chat shows them even if its history lags. */
  received: IncomingMessage[];
  /** Group members, once loaded. */
  members?: string[];
  /** Receipts from others: user → up to which message id they have read / received. */
  readBy: Map<string, string>;
  deliveredTo: Map<string, string>;
}

type FileRef = { attachmentId: string; file: UploadedAttachment['file'] };

/** Why the session ended for good, by close code (docs/realtime.md): the realtime session does not retry these. */
const FINAL_CLOSES: Record<number, string> = {
  [closeCodes.signed_out.code]: 'You signed out.',
  [closeCodes.token_revoked.code]: 'Your session ended on another device. Sign in again.',
  [closeCodes.device_revoked.code]: 'This device was signed out from another device.',
  [closeCodes.account_suspended.code]: 'This account is suspended.',
  [closeCodes.account_deleted.code]: 'This account was deleted.',
  [closeCodes.account_banned.code]: 'This account is banned.',
};
/** The reason stop() closes the session with. */
const STOPPED = 'signed out';
/** How many received messages a chat keeps for when it is opened. */
const RECEIVED_KEPT = 100;
/** After a message for a conversation the list lacks: when to ask for the list again (its entry is written beside the push, not before). */
const LIST_RETRIES_MS = [200, 500, 1000, 2000, 4000];

const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 5000;

export class Chats {
  private readonly chats = new Map<string, Chat>();
  private readonly names = new Map<string, string>();
  private readonly presence = new Map<string, { status: string; lastSeen?: string | undefined }>();
  private readonly blocked = new Set<string>();
  private readonly groupPicks = new Map<string, string>();
  private openId: string | undefined;
  private live: RealtimeSession | undefined;
  private running = true;
  /** Incoming messages, handled one at a time in arrival order (a handler may load the list first). */
  private messageQueue: Promise<void> = Promise.resolve();
  /** Chat list loads, one at a time: answers apply in the order they were asked. */
  private chatsLoad: Promise<void> = Promise.resolve();
  /** Delivered receipts to send, one per conversation (the newest id), flushed once per batch of messages. */
  private readonly toAck = new Map<string, string>();
  private lastTypingSent = 0;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private readonly cleanups: (() => void)[] = [];
  private readonly client: NexChatClient;
  private readonly me: Me;
  private readonly keys: DeviceKeys;
  private readonly onEnded: (reason: string) => void;

  constructor(client: NexChatClient, me: Me, keys: DeviceKeys, onEnded: (reason: string) => void) {
    this.client = client;
    this.me = me;
    this.keys = keys;
    this.onEnded = onEnded;
    this.names.set(me.userId, me.displayName);
  }

  async start(): Promise<void> {
    this.wire();
    const { blocked } = await this.client.request<{ blocked: { userId: string }[] }>('GET', '/api/users/blocked?limit=100');
    for (const b of blocked) this.blocked.add(b.userId);
    await Promise.all([this.loadChats(), this.loadInvitations()]);
    this.pollTimer = setInterval(() => void this.loadInvitations().catch(() => undefined), 15_000);
    if (!this.running) return;
    // the list is loaded first: what came after it arrives live, or by the catch-up that follows every connect
    this.live = this.client.realtime({ cursor: loadCursor(this.me.userId), onCursor: (cursor) => saveCursor(this.me.userId, cursor) });
    this.listen(this.live);
    setConnection('connecting');
    this.live.start().catch(() => undefined); // an end is reported by the `closed` event
  }

  stop(): void {
    this.running = false;
    clearInterval(this.pollTimer);
    for (const undo of this.cleanups.splice(0)) undo();
    const live = this.live;
    this.live = undefined;
    live?.close(1000, STOPPED);
    $('conversations').replaceChildren();
    $('messages').replaceChildren();
    $('search-results').replaceChildren();
    $('invitations').replaceChildren();
    this.openId = undefined;
    this.renderHeader();
  }

  // ---- wiring the static page ------------------------------------------------------------------------

  /** Listens on the page's controls for this session only (stop() removes them again). */
  private on<K extends keyof HTMLElementEventMap>(id: string, type: K, listener: (event: HTMLElementEventMap[K]) => void): void {
    const el = $(id);
    el.addEventListener(type, listener);
    this.cleanups.push(() => el.removeEventListener(type, listener));
  }

  private wire(): void {
    this.on('composer', 'submit', (event) => {
      event.preventDefault();
      void this.send();
    });
    this.on('composer-text', 'keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $<HTMLFormElement>('composer').requestSubmit();
      }
    });
    this.on('composer-text', 'input', () => this.sendTyping());
    this.on('search-form', 'submit', (event) => {
      event.preventDefault();
      void this.search().catch((error: unknown) => notice(errorText(error), 'error'));
    });
    this.on('group-form', 'submit', (event) => {
      event.preventDefault();
      void this.createGroup().catch((error: unknown) => notice(errorText(error), 'error'));
    });
    this.on(
      'refresh',
      'click',
      () => void Promise.all([this.loadChats(), this.loadInvitations()]).catch((error: unknown) => notice(errorText(error), 'error')),
    );
    this.on('safety', 'click', () => void this.showSafetyNumber(this.open?.peerId));
    this.on('block', 'click', () => void this.toggleBlock().catch((error: unknown) => notice(errorText(error), 'error')));
    this.on('report', 'click', () => void this.reportDialog());
    const visible = () => {
      if (document.visibilityState === 'visible') this.markRead();
    };
    document.addEventListener('visibilitychange', visible);
    this.cleanups.push(() => document.removeEventListener('visibilitychange', visible));
  }

  private get open(): Chat | undefined {
    return this.openId ? this.chats.get(this.openId) : undefined;
  }

  private name(userId: string): string {
    return this.names.get(userId) ?? 'Someone';
  }

  // ---- the realtime session ---------------------------------------------------------------------------

  /** A handler's failure is shown on the page (and logged), never swallowed. */
  private failed(what: string) {
    return (error: unknown) => {
      console.error(`NexChat: ${what} failed`, error);
      notice(`${what} failed: ${errorText(error)}`, 'error');
    };
  }

  private listen(live: RealtimeSession): void {
    live.on('connecting', ({ attempt }) => setConnection(attempt === 1 && !this.connectedOnce ? 'connecting' : 'reconnecting'));
    live.on('reconnecting', () => setConnection('reconnecting'));
    live.on('open', () => {
      setConnection('online');
      this.lastMarked = '';
      this.markRead(); // a read receipt the socket could not carry while it was down
      // receipts, group changes and read positions are not in the catch-up: the list brings them back
      if (this.connectedOnce) void this.loadChats().catch(this.failed('Refreshing the chats'));
      this.connectedOnce = true;
    });
    live.on('closed', ({ code, reason }) => {
      if (reason === STOPPED) return;
      // the server ended the session (the SDK may have signed out already: this names the reason)
      this.running = false;
      setConnection('offline');
      this.onEnded(FINAL_CLOSES[code] ?? `Disconnected (${reason}). Sign in again.`);
    });
    live.on('message', (m) => {
      if (m.senderId !== this.me.userId && !m.event) this.deliveredLater(m);
      this.messageQueue = this.messageQueue.then(() => this.onMessage(m)).catch(this.failed('Showing a new message'));
    });
    live.on('receipt', ({ kind, conversationId, by, upToMessageId }) => {
      const chat = this.chats.get(conversationId);
      if (!chat) return;
      const receipts = kind === 'read' ? chat.readBy : chat.deliveredTo;
      if ((receipts.get(by) ?? '') < upToMessageId) receipts.set(by, upToMessageId);
      if (chat.id === this.openId) this.renderStatuses();
    });
    live.on('typing', ({ from, conversationId }) => this.onTyping(from, conversationId));
    live.on('presence', ({ userId, status, lastSeen }) => {
      this.presence.set(userId, { status, lastSeen });
      this.renderChats();
      this.renderHeader();
    });
    live.on('groupUpdated', ({ conversationId }) => {
      void this.loadChats()
        .then(async () => {
          if (conversationId === this.openId) await this.loadMembers(this.open!);
        })
        .catch(this.failed('Updating the group'));
    });
    live.on('keyChanged', ({ userId }) => notice(`${this.name(userId)}'s safety number changed. Compare it again before sharing anything sensitive.`));
    live.on('deviceLinked', ({ name }) => notice(`A new device was linked to your account: ${name}. If that was not you, sign it out.`));
    live.on('error', (error) => notice(errorText(error), 'error'));
  }

  private connectedOnce = false;

  /** Tells the sender a message reached this device: one receipt per conversation for a whole batch (a catch-up page). */
  private deliveredLater(m: IncomingMessage): void {
    const first = this.toAck.size === 0;
    if ((this.toAck.get(m.conversationId) ?? '') < m.messageId) this.toAck.set(m.conversationId, m.messageId);
    if (!first) return;
    queueMicrotask(() => {
      for (const [conversationId, upTo] of this.toAck) this.live?.delivered(conversationId, upTo);
      this.toAck.clear();
    });
  }

  // ---- conversations -------------------------------------------------------------------------------------

  /** Loads the chat list (one load at a time, in order); resolves when this one has been applied. */
  loadChats(): Promise<void> {
    const load = this.chatsLoad.catch(() => undefined).then(() => this.fetchChats());
    this.chatsLoad = load;
    return load;
  }

  private async fetchChats(): Promise<void> {
    const { conversations } = await this.client.request<{ conversations: Conversation[] }>('GET', '/api/conversations?limit=50');
    for (const c of conversations) {
      if (c.peer?.displayName) this.names.set(c.peer.userId, c.peer.displayName);
      const known = this.chats.get(c.conversationId);
      const chat: Chat = known ?? {
        id: c.conversationId,
        kind: c.kind,
        title: '',
        unread: 0,
        lastAt: c.createdAt,
        readBy: new Map(),
        deliveredTo: new Map(),
        received: [],
      };
      chat.title = c.kind === 'group' ? (c.name ?? 'Group') : (c.peer?.displayName ?? 'Someone');
      if (c.peer) chat.peerId = c.peer.userId;
      const last = c.lastMessage?.messageId;
      chat.listedUpTo = last;
      if (!chat.lastMessageId || (last && last >= chat.lastMessageId)) {
        // the server has seen everything this page has: its count is the truth
        chat.unread = c.unreadCount;
        chat.lastMessageId = last;
        chat.lastAt = c.lastMessage?.sentAt ?? c.createdAt;
      } else {
        // a message reached this page before the server's list counted it (its push goes out beside the write)
        chat.unread = Math.max(chat.unread, c.unreadCount);
      }
      if (c.conversationId === this.openId) chat.unread = 0;
      this.chats.set(chat.id, chat);
    }
    this.renderChats();
  }

  private renderChats(): void {
    const list = [...this.chats.values()].sort((a, b) => b.lastAt.localeCompare(a.lastAt));
    $('conversations').replaceChildren(
      ...list.map((chat) => {
        const online = chat.peerId && this.presence.get(chat.peerId)?.status === 'online';
        const label = [chat.title, chat.kind === 'group' ? '(group)' : '', online ? '(online)' : '', chat.unread ? `${chat.unread} unread` : '']
          .filter(Boolean)
          .join(' ');
        const button = h(
          'button',
          {
            type: 'button',
            class: 'chat-link',
            'data-conversation-id': chat.id,
            'aria-current': chat.id === this.openId ? 'true' : undefined,
            'aria-label': label,
          },
          h('span', { class: online ? 'dot online' : 'dot', 'aria-hidden': 'true' }),
          h('span', { class: 'chat-name' }, chat.title),
          chat.kind === 'group' ? h('span', { class: 'tag' }, 'group') : null,
          chat.unread ? h('span', { class: 'unread' }, `${chat.unread} unread`) : null,
        );
        button.addEventListener('click', () => void this.openChat(chat.id).catch((error: unknown) => notice(errorText(error), 'error')));
        return h('li', {}, button);
      }),
    );
  }

  async openChat(id: string): Promise<void> {
    const chat = this.chats.get(id);
    if (!chat) return;
    this.openId = id;
    chat.unread = 0;
    $('messages').replaceChildren();
    $('typing').textContent = '';
    this.renderChats();
    this.renderHeader();
    show($('composer'), true);
    if (chat.kind === 'group') await this.loadMembers(chat);
    await this.loadHistory(id);
    $<HTMLTextAreaElement>('composer-text').focus();
  }

  private async loadMembers(chat: Chat): Promise<void> {
    const group: Group = await this.client.group(chat.id);
    chat.members = group.members.map((m) => m.userId);
    for (const m of group.members) if (m.displayName) this.names.set(m.userId, m.displayName);
  }

  private renderHeader(): void {
    const chat = this.open;
    $('chat-title').textContent = chat ? chat.title : 'No chat open';
    show($('chat-actions'), !!chat);
    show($('composer'), !!chat);
    const direct = chat?.kind === 'direct' && chat.peerId;
    show($('safety'), !!direct);
    show($('block'), !!direct);
    if (direct) $('block').textContent = this.blocked.has(chat.peerId!) ? 'Unblock' : 'Block';
    const p = direct ? this.presence.get(chat.peerId!) : undefined;
    $('chat-presence').textContent = !p ? '' : p.status === 'online' ? 'Online' : `Last seen ${p.lastSeen ? timeOf(p.lastSeen) : 'recently'}`;
  }

  // ---- messages --------------------------------------------------------------------------------------------

  private async loadHistory(id: string): Promise<void> {
    const { messages } = await this.client.request<{ messages: Message[] }>('GET', `/api/conversations/${encodeURIComponent(id)}/messages?limit=50`);
    if (id !== this.openId) return;
    // what arrived live is shown too: the history is read from a table that may not hold it yet
    const received = this.chats.get(id)?.received ?? [];
    for (const m of [...messages.reverse(), ...received]) await this.renderMessage(m);
    this.markRead();
  }

  /**
   * A message from the session (live, or from the catch-up: each once). It counts as unread when it is
   * newer than the newest one the page knows of for its chat, so a catch-up repeating what the list
   * already counted changes nothing. A conversation the list lacks is shown from the message at once,
   * and the list asked again until it has it (the recipient's entry is written beside the push).
   */
  private async onMessage(m: IncomingMessage): Promise<void> {
    let chat = this.chats.get(m.conversationId);
    if (!chat) {
      await this.loadChats();
      chat = this.chats.get(m.conversationId);
    }
    if (!chat) {
      chat = this.chatFrom(m);
      this.chats.set(chat.id, chat);
      void this.refreshUntilListed(chat.id, m.messageId).catch(this.failed('Loading the chats'));
    }
    chat.received.push(m);
    if (chat.received.length > RECEIVED_KEPT) chat.received.shift();
    const mine = m.senderId === this.me.userId;
    const isNew = !chat.lastMessageId || m.messageId > chat.lastMessageId;
    if (isNew) {
      chat.lastMessageId = m.messageId;
      chat.lastAt = m.sentAt;
    }
    if (m.event) void this.loadChats().catch(this.failed('Loading the chats'));
    if (chat.id === this.openId) {
      if (!mine && !m.event) $('typing').textContent = '';
      await this.renderMessage(m);
      this.markRead();
    } else if (isNew && !mine && !m.event) {
      chat.unread++;
    }
    this.renderChats();
  }

  /** A chat the list does not have yet, as far as the message tells (its title comes with the list). */
  private chatFrom(m: IncomingMessage): Chat {
    const group = m.conversationId.startsWith('gr_');
    const peerId = group ? undefined : m.senderId === this.me.userId ? m.recipientId : m.senderId;
    return {
      id: m.conversationId,
      kind: group ? 'group' : 'direct',
      title: group ? 'Group' : this.name(peerId ?? ''),
      ...(peerId ? { peerId } : {}),
      unread: 0,
      lastAt: m.sentAt,
      readBy: new Map(),
      deliveredTo: new Map(),
      received: [],
    };
  }

  /** Loads the list again, a few times and further apart, until it names the conversation with this message. */
  private async refreshUntilListed(conversationId: string, messageId: string): Promise<void> {
    for (const wait of LIST_RETRIES_MS) {
      await new Promise((resolve) => setTimeout(resolve, wait));
      if (!this.running) return;
      await this.loadChats();
      const chat = this.chats.get(conversationId);
      if (chat?.listedUpTo && chat.listedUpTo >= messageId) return;
    }
  }

  /** Opens and shows a message in the open chat, in id order, once (a live copy and a history copy meet here). */
  private async renderMessage(m: Message): Promise<void> {
    const list = $('messages');
    if (list.querySelector(`[data-message-id="${m.messageId}"]`)) return;
    const chat = this.chats.get(m.conversationId);
    if (!chat) return;
    const pending = list.querySelector(`[data-client-message-id="${CSS.escape(m.clientMessageId)}"]`);
    const item = m.event ? this.eventItem(m) : await this.messageItem(m, chat);
    if (m.conversationId !== this.openId || list.querySelector(`[data-message-id="${m.messageId}"]`)) return;
    if (pending) {
      pending.replaceWith(item);
    } else {
      const after = [...list.children].find((li) => ((li as HTMLElement).dataset.messageId ?? '\uffff') > m.messageId);
      list.insertBefore(item, after ?? null);
    }
    this.renderStatuses();
    item.scrollIntoView({ block: 'nearest' });
  }

  private eventItem(m: Message): HTMLLIElement {
    const e = m.event!;
    const who = this.name(m.senderId);
    const whom = e.userId ? this.name(e.userId) : '';
    const text =
      e.type === 'created'
        ? `${who} created the group`
        : e.type === 'joined'
          ? `${whom || who} joined`
          : e.type === 'left'
            ? `${who} left`
            : e.type === 'removed'
              ? `${who} removed ${whom}`
              : e.type === 'renamed'
                ? `${who} renamed the group to ${e.name ?? ''}`
                : `${who} made ${whom} ${e.role ?? ''}`;
    return h('li', { class: 'event', 'data-message-id': m.messageId }, text);
  }

  private async messageItem(m: Message, chat: Chat): Promise<HTMLLIElement> {
    let plaintext: string | null;
    try {
      plaintext = chat.kind === 'group' ? await this.client.openGroupMessage(m, this.keys) : await this.client.openDirectMessage(m, this.keys);
    } catch {
      plaintext = null;
    }
    const mine = m.senderId === this.me.userId;
    const content = plaintext === null ? undefined : parseMessage(plaintext);
    return this.bubble({
      mine,
      sender: mine ? 'You' : this.name(m.senderId),
      sentAt: m.sentAt,
      text: content ? content.text : 'This message could not be decrypted on this device.',
      files: content?.files ?? [],
      messageId: m.messageId,
      undecryptable: !content,
    });
  }

  private bubble(b: {
    mine: boolean;
    sender: string;
    sentAt: string;
    text: string;
    files: FileRef[];
    messageId?: string;
    clientMessageId?: string;
    undecryptable?: boolean;
  }): HTMLLIElement {
    return h(
      'li',
      {
        class: `message ${b.mine ? 'mine' : 'theirs'}${b.undecryptable ? ' undecryptable' : ''}`,
        'data-message-id': b.messageId,
        'data-client-message-id': b.clientMessageId,
      },
      h('span', { class: 'sender' }, b.sender),
      b.text ? h('p', { class: 'text' }, b.text) : null,
      ...b.files.map((f) => this.fileItem(f)),
      h(
        'span',
        { class: 'meta' },
        h('time', { datetime: b.sentAt }, timeOf(b.sentAt)),
        b.mine ? h('span', { class: 'status' }, b.messageId ? 'Sent' : 'Sending…') : null,
      ),
    );
  }

  private fileItem({ attachmentId, file }: FileRef): HTMLElement {
    const label = `${file.name ?? 'file'} (${bytesText(file.size)})`;
    const box = h('div', { class: 'file' });
    const button = h('button', { type: 'button', class: 'download' }, `Download ${label}`);
    button.addEventListener('click', () => {
      button.disabled = true;
      button.textContent = `Downloading ${label}…`;
      this.client
        .downloadAttachment(attachmentId, file)
        .then((bytes) => {
          const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: file.type ?? 'application/octet-stream' }));
          const link = h('a', { href: url, download: file.name ?? 'file', class: 'saved' }, `Save ${label}`);
          const preview = file.type?.startsWith('image/') ? h('img', { src: url, alt: file.name ?? 'image', class: 'preview' }) : null;
          box.replaceChildren(...(preview ? [preview, link] : [link]));
          link.focus();
        })
        .catch((error: unknown) => {
          button.disabled = false;
          button.textContent = `Download ${label}`;
          notice(`Download failed: ${errorText(error)}`, 'error');
        });
    });
    box.append(button);
    return box;
  }

  /** "Sent" → "Delivered" → "Read" on my messages, from the receipts the others sent (in a group, who). */
  private renderStatuses(): void {
    const chat = this.open;
    if (!chat) return;
    const others = (m: Map<string, string>, id: string) => [...m].filter(([by, upTo]) => by !== this.me.userId && upTo >= id).map(([by]) => by);
    for (const li of $('messages').querySelectorAll<HTMLElement>('li.mine[data-message-id]')) {
      const id = li.dataset.messageId!;
      const read = others(chat.readBy, id);
      const delivered = others(chat.deliveredTo, id);
      const status =
        read.length > 0
          ? chat.kind === 'group'
            ? `Read by ${read.map((u) => this.name(u)).join(', ')}`
            : 'Read'
          : delivered.length > 0
            ? 'Delivered'
            : 'Sent';
      const el = li.querySelector('.status');
      if (el && el.textContent !== status) el.textContent = status;
    }
  }

  private markRead(): void {
    const chat = this.open;
    if (!chat || document.visibilityState !== 'visible') return;
    const last = [...$('messages').querySelectorAll<HTMLElement>('li.theirs[data-message-id]')].at(-1)?.dataset.messageId;
    if (!last) return;
    const key = `${chat.id}:${last}`;
    if (this.lastMarked === key) return;
    if (this.live?.state !== 'open') return; // sent when the session is open again
    this.live.markRead(chat.id, last);
    this.lastMarked = key;
  }

  private lastMarked = '';

  private sendTyping(): void {
    const chat = this.open;
    if (!chat || Date.now() - this.lastTypingSent < TYPING_EVERY_MS) return;
    this.lastTypingSent = Date.now();
    this.live?.typing(chat.kind === 'group' ? { conversationId: chat.id } : { to: chat.peerId! });
  }

  private onTyping(from: string, conversationId: string): void {
    if (conversationId !== this.openId || from === this.me.userId) return;
    $('typing').textContent = `${this.name(from)} is typing…`;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => ($('typing').textContent = ''), TYPING_SHOWN_MS);
  }

  private async send(): Promise<void> {
    const chat = this.open;
    const textarea = $<HTMLTextAreaElement>('composer-text');
    const fileInput = $<HTMLInputElement>('composer-file');
    const sendButton = $<HTMLButtonElement>('send');
    const text = textarea.value.trim();
    const file = fileInput.files?.[0];
    if (!chat || (!text && !file) || sendButton.disabled) return;
    sendButton.disabled = true;
    const clientMessageId = crypto.randomUUID();
    const pending = this.bubble({ mine: true, sender: 'You', sentAt: new Date().toISOString(), text, files: [], clientMessageId });
    $('messages').append(pending);
    pending.scrollIntoView({ block: 'nearest' });
    textarea.value = '';
    this.lastTypingSent = 0; // the message ends this bout of typing: the next keystroke announces a new one
    const progress = $<HTMLProgressElement>('upload-progress');
    try {
      const files: UploadedAttachment[] = [];
      if (file) {
        progress.value = 0;
        show(progress, true);
        const bytes = new Uint8Array(await file.arrayBuffer());
        files.push(
          await this.client.uploadAttachment(chat.id, bytes, {
            name: file.name,
            type: file.type || 'application/octet-stream',
            onProgress: (sent, total) => (progress.value = total ? sent / total : 0),
          }),
        );
        fileInput.value = '';
      }
      const body = composeMessage(text, files);
      const opts = {
        clientMessageId,
        // through the session: a send whose socket drops goes out again after the reconnect (same clientMessageId)
        ...(this.live ? { realtime: this.live } : {}),
        ...(files.length ? { attachmentIds: files.map((f) => f.attachmentId) } : {}),
      };
      const ack =
        chat.kind === 'group'
          ? await this.client.sendGroupMessage(chat.id, body, this.keys, opts)
          : await this.client.sendDirectMessage(chat.peerId!, body, this.keys, { ...opts, conversationId: chat.id });
      const sent = this.bubble({ mine: true, sender: 'You', sentAt: ack.sentAt, text, files, messageId: ack.messageId, clientMessageId });
      if (pending.isConnected) pending.replaceWith(sent);
      chat.lastAt = ack.sentAt;
      this.renderStatuses();
      this.renderChats();
    } catch (error) {
      pending.remove();
      if (!textarea.value) textarea.value = text;
      const blocked = error instanceof ApiError && error.code === 'user_blocked';
      notice(blocked ? 'You block this person: unblock them to write.' : `Not sent: ${errorText(error)}`, 'error');
    } finally {
      show(progress, false);
      sendButton.disabled = false;
      textarea.focus();
    }
  }

  // ---- people, groups, invitations ------------------------------------------------------------------------

  private async search(): Promise<void> {
    const q = $<HTMLInputElement>('search-q').value.trim();
    if (q.length < 2) throw new Error('Type at least 2 characters.');
    const { users } = await this.client.request<{ users: { userId: string; displayName: string }[] }>('GET', `/api/users/search?q=${encodeURIComponent(q)}`);
    const found = users.filter((u) => u.userId !== this.me.userId);
    $('search-results').replaceChildren(
      ...(found.length
        ? found.map((u) => {
            this.names.set(u.userId, u.displayName);
            const message = h('button', { type: 'button', 'aria-label': `Message ${u.displayName}` }, 'Message');
            message.addEventListener('click', () => void this.startDirect(u.userId).catch((error: unknown) => notice(errorText(error), 'error')));
            const pick = h(
              'button',
              { type: 'button', 'aria-label': `Add ${u.displayName} to the new group`, 'aria-pressed': String(this.groupPicks.has(u.userId)) },
              'Add to group',
            );
            pick.addEventListener('click', () => {
              if (this.groupPicks.has(u.userId)) this.groupPicks.delete(u.userId);
              else this.groupPicks.set(u.userId, u.displayName);
              pick.setAttribute('aria-pressed', String(this.groupPicks.has(u.userId)));
              $('group-members').textContent = this.groupPicks.size
                ? `Members: ${[...this.groupPicks.values()].join(', ')}`
                : 'Add people from the search results.';
            });
            return h('li', {}, h('span', { class: 'person' }, u.displayName), message, pick);
          })
        : [h('li', {}, 'Nobody found.')]),
    );
  }

  private async startDirect(userId: string): Promise<void> {
    const id = await this.client.directConversation(userId);
    if (!this.chats.has(id)) await this.loadChats();
    if (!this.chats.has(id)) {
      this.chats.set(id, {
        id,
        kind: 'direct',
        title: this.name(userId),
        peerId: userId,
        unread: 0,
        lastAt: new Date().toISOString(),
        readBy: new Map(),
        deliveredTo: new Map(),
        received: [],
      });
      this.renderChats();
    }
    await this.openChat(id);
  }

  private async createGroup(): Promise<void> {
    const name = $<HTMLInputElement>('group-name').value.trim();
    if (!name) throw new Error('Give the group a name.');
    const id = await this.client.createGroup(name, [...this.groupPicks.keys()]);
    this.groupPicks.clear();
    $<HTMLInputElement>('group-name').value = '';
    $('group-members').textContent = 'Add people from the search results.';
    for (const b of $('search-results').querySelectorAll('[aria-pressed]')) b.setAttribute('aria-pressed', 'false');
    await this.loadChats();
    await this.openChat(id);
    notice(`Group “${name}” created; the people you added are invited.`);
  }

  private async loadInvitations(): Promise<void> {
    const { invitations } = await this.client.groupInvitations();
    show($('invitations-section'), invitations.length > 0);
    $('invitations').replaceChildren(...invitations.map((inv) => this.invitationItem(inv)));
  }

  private invitationItem(inv: Invitation): HTMLLIElement {
    const accept = h('button', { type: 'button', 'aria-label': `Join ${inv.name}` }, 'Join');
    const decline = h('button', { type: 'button', 'aria-label': `Decline ${inv.name}` }, 'Decline');
    accept.addEventListener(
      'click',
      () =>
        void (async () => {
          await this.client.acceptInvitation(inv.conversationId);
          await Promise.all([this.loadChats(), this.loadInvitations()]);
          await this.openChat(inv.conversationId);
        })().catch((error: unknown) => notice(errorText(error), 'error')),
    );
    decline.addEventListener(
      'click',
      () =>
        void this.client
          .declineInvitation(inv.conversationId)
          .then(() => this.loadInvitations())
          .catch((error: unknown) => notice(errorText(error), 'error')),
    );
    return h('li', {}, h('span', {}, `${inv.name} (from ${this.name(inv.inviterId)})`), accept, decline);
  }

  // ---- block, report ------------------------------------------------------------------------------------------

  private async toggleBlock(): Promise<void> {
    const peer = this.open?.peerId;
    if (!peer) return;
    const path = `/api/users/${encodeURIComponent(peer)}/block`;
    if (this.blocked.has(peer)) {
      await this.client.request('DELETE', path);
      this.blocked.delete(peer);
      notice(`You unblocked ${this.name(peer)}. New messages from them will reach you again.`);
    } else {
      await this.client.request('POST', path);
      this.blocked.add(peer);
      notice(`You blocked ${this.name(peer)}. Nothing from them reaches you, and they are not told.`);
    }
    this.renderHeader();
  }

  private async reportDialog(): Promise<void> {
    const chat = this.open;
    if (!chat) return;
    const targets = chat.kind === 'direct' ? [chat.peerId!] : (chat.members ?? []).filter((u) => u !== this.me.userId);
    const who = h('select', { id: 'report-target' }, ...targets.map((u) => h('option', { value: u }, this.name(u))));
    const reasons = ['spam', 'harassment', 'hate', 'violence', 'sexual_content', 'child_safety', 'impersonation', 'scam', 'other'];
    const reason = h('select', { id: 'report-reason' }, ...reasons.map((r) => h('option', { value: r }, r.replace('_', ' '))));
    const details = h('textarea', { id: 'report-details', maxlength: 1000, rows: 3 });
    const alsoBlock = h('input', { id: 'report-block', type: 'checkbox' });
    const body = [
      h('label', { for: 'report-target' }, 'Person'),
      who,
      h('label', { for: 'report-reason' }, 'Reason'),
      reason,
      h('label', { for: 'report-details' }, 'What happened (optional)'),
      details,
      h('p', { class: 'check' }, alsoBlock, h('label', { for: 'report-block' }, 'Also block them')),
      h('p', { class: 'hint' }, 'Moderators cannot read your messages: the report holds only what you write here.'),
    ];
    const sent = await dialog('Report', body, {
      ok: 'Send report',
      onOk: async () => {
        await this.client.request('POST', '/api/reports', {
          targetUserId: who.value,
          ...(chat.kind === 'group' ? { conversationId: chat.id } : {}),
          reason: reason.value,
          ...(details.value.trim() ? { details: details.value.trim() } : {}),
          block: alsoBlock.checked,
        });
      },
    });
    if (!sent) return;
    if (alsoBlock.checked) this.blocked.add(who.value);
    this.renderHeader();
    notice('Report sent. Thank you.');
  }

  // ---- safety numbers, linking a device -------------------------------------------------------------------------

  /** A user's safety number as the directory serves it, recomputed here from their identity key (or mine when userId is undefined). */
  async showSafetyNumber(userId: string | undefined): Promise<void> {
    try {
      const id = userId ?? this.me.userId;
      const entry = await this.client.publicKey(id);
      // the SDK's derivation of the server's fingerprint: a server that lied about it is caught here
      const local = fingerprint(id, entry.identityKey);
      const same = local === entry.fingerprint;
      const verified = verifiedFingerprint(id) === entry.fingerprint;
      const body = [
        h('p', {}, userId ? `Safety number of ${this.name(id)}:` : 'Your safety number:'),
        h('p', { class: 'fingerprint', id: 'safety-number' }, entry.fingerprint),
        h(
          'p',
          { id: 'safety-check', class: same ? 'ok' : 'bad' },
          same
            ? 'Checked on this device against the key the server sent.'
            : 'Warning: this does not match the key the server sent. Do not trust this conversation.',
        ),
        userId
          ? h(
              'p',
              {},
              `Ask ${this.name(id)} to open “My safety number” and compare the digits, in person or on a call. ${verified ? 'You verified this number before.' : ''}`,
            )
          : h('p', {}, 'Others compare this number with the one their device shows for you.'),
      ];
      const confirmed = await dialog('Safety number', body, {
        ok: userId && same && !verified ? 'Mark as verified' : 'Close',
        cancel: userId && same && !verified ? 'Close' : false,
      });
      if (confirmed && userId && same && !verified) {
        markVerified(id, entry.fingerprint);
        notice(`${this.name(id)} is verified on this device.`);
      }
    } catch (error) {
      notice(errorText(error), 'error');
    }
  }

  /** On this signed-in device: approve a new one from its link code, after a fresh code to my email. */
  async approveLinkDialog(): Promise<void> {
    const payload = h('input', { id: 'approve-payload', autocomplete: 'off' });
    const check = h('p', { id: 'approve-verification', 'aria-live': 'polite' });
    payload.addEventListener('input', () => {
      try {
        check.textContent = `Verification code: ${linkVerificationCode(parseLinkQr(payload.value.trim()).publicKey)}. The new device must show the same.`;
      } catch {
        check.textContent = '';
      }
    });
    const sendCode = h('button', { type: 'button', id: 'approve-send-code' }, 'Send confirmation code');
    const code = h('input', { id: 'approve-code', inputmode: 'numeric', autocomplete: 'one-time-code' });
    sendCode.addEventListener('click', () => {
      if (!this.me.email) return notice('This account has no email to send a code to.', 'error');
      sendCode.disabled = true;
      this.client
        .requestOtp('email', this.me.email, 'reauth')
        .then(() => notice(`Confirmation code sent to ${this.me.email}.`))
        .catch((error: unknown) => notice(errorText(error), 'error'))
        .finally(() => (sendCode.disabled = false));
    });
    const body = [
      h('p', {}, 'On the new device, choose “Show link code”. Paste the link code it shows (the text under its QR code).'),
      h('label', { for: 'approve-payload' }, 'Link code from the new device'),
      payload,
      check,
      sendCode,
      h('label', { for: 'approve-code' }, 'Confirmation code'),
      code,
    ];
    const approved = await dialog('Link a device', body, {
      ok: 'Approve',
      onOk: async () => {
        const scanned = parseLinkQr(payload.value.trim());
        await this.client.approveLink(scanned, this.keys, { code: code.value.trim() });
      },
    });
    if (approved) notice('Approved: the new device is signing in with your keys.');
  }
}
