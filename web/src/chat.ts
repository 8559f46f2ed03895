// The signed-in page: the conversation list with unread counts, one open chat (history, live messages,
// typing, receipts, presence, attachments), people search, groups and invitations, block and report,
// safety numbers and approving a new device; the socket with its reconnect loop.
import {
  ApiError,
  composeMessage,
  linkVerificationCode,
  parseLinkQr,
  parseMessage,
  type DeviceKeys,
  type NexChatClient,
  type UploadedAttachment,
} from '../../client/index.ts';
import type { Conversation, Message } from '../../contract/conversations/schemas.ts';
import type { Group, Invitation } from '../../contract/groups/schemas.ts';
import { $, bytesText, h, show, timeOf } from './dom.ts';
import type { Me } from './main.ts';
import { safetyNumber } from './safety.ts';
import { markVerified, verifiedFingerprint } from './store.ts';
import { dialog, errorText, notice, setConnection } from './ui.ts';

interface Chat {
  id: string;
  kind: 'direct' | 'group';
  title: string;
  peerId?: string;
  unread: number;
  lastAt: string;
  /** Group members, once loaded. */
  members?: string[];
  /** Receipts from others: user → up to which message id they have read / received. */
  readBy: Map<string, string>;
  deliveredTo: Map<string, string>;
}

type Frame = { type: string } & Record<string, unknown>;
type FileRef = { attachmentId: string; file: UploadedAttachment['file'] };

/** Close codes after which reconnecting cannot help (docs/realtime.md): sign in again. */
const FINAL_CLOSES: Record<number, string> = {
  4001: 'You signed out.',
  4002: 'Your session ended on another device. Sign in again.',
  4003: 'This device was signed out from another device.',
  4004: 'This account is suspended.',
  4005: 'This account was deleted.',
  4006: 'This account is banned.',
};

const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 5000;

export class Chats {
  private readonly chats = new Map<string, Chat>();
  private readonly names = new Map<string, string>();
  private readonly presence = new Map<string, { status: string; lastSeen?: string | undefined }>();
  private readonly blocked = new Set<string>();
  private readonly groupPicks = new Map<string, string>();
  private openId: string | undefined;
  private socket: WebSocket | undefined;
  private running = true;
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
    void this.connectLoop();
  }

  stop(): void {
    this.running = false;
    clearInterval(this.pollTimer);
    for (const undo of this.cleanups.splice(0)) undo();
    this.socket?.close(1000, 'signed out');
    this.socket = undefined;
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

  // ---- the socket --------------------------------------------------------------------------------------

  /** Keeps one socket open while signed in: jittered backoff between tries, and a catch-up after each reconnect. */
  private async connectLoop(): Promise<void> {
    let attempt = 0;
    let first = true;
    while (this.running) {
      setConnection(first ? 'connecting' : 'reconnecting');
      let closed: { code: number } | undefined;
      try {
        const ws = await this.client.connect();
        if (!this.running) {
          ws.close(1000);
          return;
        }
        this.socket = ws;
        attempt = 0;
        setConnection('online');
        ws.addEventListener('message', (event) => this.onFrame(String(event.data)));
        const ended = new Promise<{ code: number }>((resolve) => ws.addEventListener('close', (e) => resolve({ code: e.code }), { once: true }));
        if (!first) void this.catchUp();
        first = false;
        closed = await ended;
        this.socket = undefined;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return; // the SDK signed out (onTokens(null))
      }
      if (!this.running) return;
      const final = closed && FINAL_CLOSES[closed.code];
      if (final) {
        this.running = false;
        this.onEnded(final);
        return;
      }
      first = false;
      setConnection('reconnecting');
      const delay = Math.min(30_000, 500 * 2 ** attempt++) * (0.5 + Math.random() / 2);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /** After a reconnect: what came while the socket was down (unread counts, the open chat's history). */
  private async catchUp(): Promise<void> {
    await this.loadChats();
    if (this.openId) await this.loadHistory(this.openId);
  }

  private frame(data: Record<string, unknown>): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(data));
    return true;
  }

  private onFrame(text: string): void {
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      return;
    }
    switch (frame.type) {
      case 'message':
        void this.onMessage(frame as unknown as Message);
        break;
      case 'typing':
        this.onTyping(frame.from as string, frame.conversationId as string);
        break;
      case 'read':
      case 'delivered': {
        const chat = this.chats.get(frame.conversationId as string);
        if (!chat) break;
        const receipts = frame.type === 'read' ? chat.readBy : chat.deliveredTo;
        const upTo = frame.upToMessageId as string;
        if ((receipts.get(frame.by as string) ?? '') < upTo) receipts.set(frame.by as string, upTo);
        if (chat.id === this.openId) this.renderStatuses();
        break;
      }
      case 'presence':
        this.presence.set(frame.userId as string, { status: frame.status as string, lastSeen: frame.lastSeen as string | undefined });
        this.renderChats();
        this.renderHeader();
        break;
      case 'groupUpdated':
        void this.loadChats().then(async () => {
          if (frame.conversationId === this.openId) await this.loadMembers(this.open!);
        });
        break;
      case 'keyChanged':
        notice(`${this.name(frame.userId as string)}'s safety number changed. Compare it again before sharing anything sensitive.`);
        break;
      case 'deviceLinked':
        notice(`A new device was linked to your account: ${String(frame.name)}. If that was not you, sign it out.`);
        break;
      case 'error':
        if (!frame.close) notice(String(frame.message), 'error');
        break;
    }
  }

  // ---- conversations -------------------------------------------------------------------------------------

  async loadChats(): Promise<void> {
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
      };
      chat.title = c.kind === 'group' ? (c.name ?? 'Group') : (c.peer?.displayName ?? 'Someone');
      if (c.peer) chat.peerId = c.peer.userId;
      chat.unread = c.conversationId === this.openId ? 0 : c.unreadCount;
      chat.lastAt = c.lastMessage?.sentAt ?? c.createdAt;
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
    for (const m of messages.reverse()) await this.renderMessage(m);
    this.markRead();
  }

  private async onMessage(m: Message): Promise<void> {
    // a new conversation comes with the server's unread count, this message included
    const known = this.chats.has(m.conversationId);
    if (!known) await this.loadChats();
    const chat = this.chats.get(m.conversationId);
    if (!chat) return;
    chat.lastAt = m.sentAt;
    const mine = m.senderId === this.me.userId;
    if (!mine && !m.event) this.frame({ action: 'delivered', conversationId: m.conversationId, upToMessageId: m.messageId });
    if (m.event) void this.loadChats();
    if (chat.id === this.openId) {
      if (!mine) $('typing').textContent = '';
      await this.renderMessage(m);
      this.markRead();
    } else if (!mine && known && !m.event) {
      chat.unread++;
    }
    this.renderChats();
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
    if (this.frame({ action: 'markRead', conversationId: chat.id, upToMessageId: last })) this.lastMarked = key;
  }

  private lastMarked = '';

  private sendTyping(): void {
    const chat = this.open;
    if (!chat || Date.now() - this.lastTypingSent < TYPING_EVERY_MS) return;
    this.lastTypingSent = Date.now();
    this.frame(chat.kind === 'group' ? { action: 'typing', conversationId: chat.id } : { action: 'typing', to: chat.peerId });
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
        ...(this.socket?.readyState === WebSocket.OPEN ? { socket: this.socket } : {}),
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
      const key = Uint8Array.from(atob(entry.identityKey), (c) => c.charCodeAt(0));
      const local = safetyNumber(id, key);
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
