// The WebSocket: a single-use ticket per connect (tokens never go in URLs), a keep-alive ping under
// API Gateway's idle timeout, close codes, and sends that wait for their ack. RealtimeSession (below)
// is what apps use; connect() and the socket helpers are the older, one-socket API.
import type * as z from 'zod/mini';
// the close-code table is plain data (no zod): the one contract module the SDK loads at runtime
import { closeCodes, closeFor, type CloseInfo } from '../../contract/realtime/close-codes.ts';
import type { pushFrames } from '../../contract/realtime/frames.ts';
import type { sendMessage } from '../../contract/realtime/send-message.ts';
import { randomId } from './bytes.ts';
import { ApiError, NetworkError, SessionExpired, TimeoutError, type ApiErrorCode } from './errors.ts';
import type { ApiClient, CallOptions } from './http.ts';

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
/** The close code the SDK uses when the server says this device was revoked (an application code, 4000-4999). */
export const DEVICE_REVOKED_CLOSE_CODE = 4003;
/** WebSocket.OPEN, as a number: an injected constructor (e.g. `ws`'s) need not carry the statics. */
const OPEN = 1;

export const globalTimers: KeepAliveTimers = {
  setInterval(fn, ms) {
    const handle = setInterval(fn, ms);
    // a keep-alive alone never keeps a Node process running
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

/** Throws a RangeError unless `every` is 0 (off) or under the idle timeout. */
export function checkKeepAlive(every: number): void {
  if (!Number.isFinite(every) || every < 0 || every >= WS_IDLE_TIMEOUT_MS) {
    throw new RangeError(`keepAliveMs must be 0 (off) or under API Gateway's 10-minute idle timeout, got ${every}`);
  }
}

/** What a send over the socket (or HTTP) resolves with: the server's ack. */
export interface GroupAck {
  clientMessageId: string;
  messageId: string;
  conversationId: string;
  sentAt: string;
}

/**
 * Opens the WebSocket with a fresh single-use ticket. While it is open it pings every `keepAliveMs`
 * (the `pong` answers arrive like any frame: ignore them); closing it stops the pings.
 */
export async function connectSocket(api: ApiClient): Promise<WebSocket> {
  const { ticket } = await api.call('CreateWsTicket', {});
  const ws = new (api.opts.WebSocket ?? globalThis.WebSocket)(`${api.opts.wsUrl}/?ticket=${encodeURIComponent(ticket)}`);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error('WebSocket connection failed')), { once: true });
  });
  keepAlive(ws, api.opts.keepAliveMs ?? KEEP_ALIVE_MS, api.opts.timers ?? globalTimers);
  watchRevocation(api, ws);
  return ws;
}

/**
 * API Gateway cannot close a socket with a code of ours, so a revoked device is told by an error
 * frame (`device_revoked`) just before the server closes it: the SDK signs out (onTokens(null)) and
 * closes the socket itself with DEVICE_REVOKED_CLOSE_CODE, so apps see one clear reason.
 */
function watchRevocation(api: ApiClient, ws: WebSocket): void {
  ws.addEventListener('message', (event) => {
    let frame: { type?: unknown; code?: unknown } | undefined;
    try {
      frame = JSON.parse(String(event.data));
    } catch {
      return;
    }
    if (frame?.type !== 'error' || frame.code !== 'device_revoked') return;
    api.setTokens(null);
    if (ws.readyState === OPEN) ws.close(DEVICE_REVOKED_CLOSE_CODE, 'device revoked');
  });
}

function keepAlive(ws: WebSocket, every: number, timers: KeepAliveTimers): void {
  if (every === 0) return;
  const handle = timers.setInterval(() => {
    if (ws.readyState === OPEN) ws.send(PING_FRAME);
  }, every);
  ws.addEventListener('close', () => timers.clearInterval(handle), { once: true });
}

/** Sends queued per socket, oldest first, one at a time (an older server's error frames name no message). */
const socketSends = new WeakMap<WebSocket, Promise<unknown>>();

/** One send in flight per socket (an older server's error frames name no message), direct and group sends alike. */
export function queuedSocketSend(
  socket: WebSocket,
  frame: { clientMessageId: string } & Record<string, unknown>,
  timeoutMs: number | undefined,
): Promise<GroupAck> {
  const previous = socketSends.get(socket) ?? Promise.resolve();
  const mine = previous.catch(() => undefined).then(() => socketSend(socket, frame, timeoutMs));
  socketSends.set(socket, mine);
  return mine;
}

/**
 * Sends one frame and waits for its ack or error frame, both matched by clientMessageId (an error
 * frame naming no message, from an older server, is taken as this send's: callers keep one send in
 * flight per socket, queuedSocketSend()).
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
      } else if (f.type === 'error' && (f.clientMessageId === undefined || f.clientMessageId === frame.clientMessageId)) {
        done();
        reject(
          new ApiError(
            f.code === 'members_changed' ? 409 : 0,
            (f.code ?? 'http_error') as ApiErrorCode,
            f.message ?? 'error frame',
            f.details,
            f.retryAfterSeconds,
          ),
        );
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

// ---- the realtime session: one object that stays connected ------------------------------------------

/** Timers the session uses (tests pass fakes); the defaults never keep a Node process running. */
export interface SessionTimers extends KeepAliveTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const globalSessionTimers: SessionTimers = {
  ...globalTimers,
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface RealtimeOptions {
  /** Reconnect delays: full jitter, `random() * min(maxMs, baseMs * 2^(attempt-1))`. Defaults 500 ms and 30 s. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** In [0, 1); defaults to Math.random. */
  random?: () => number;
  timers?: SessionTimers;
  /** How long send() waits for its ack, reconnects included (default 30 s); per send: `{ timeoutMs }`. */
  ackTimeoutMs?: number;
  /** After every (re)connect, catch up through GET /api/messages/sync (default true). */
  catchUp?: boolean;
  /** Where the catch-up starts: a cursor from `onCursor` (absent: the start of what the server keeps). */
  cursor?: string;
  /** Every new sync cursor: persist it to start the next session from there. */
  onCursor?: (cursor: string) => void;
}

type FrameOf<K extends keyof typeof pushFrames> = z.output<(typeof pushFrames)[K]>;

/** A message as a push or a sync page brings it. */
export type IncomingMessage = Omit<FrameOf<'message'>, 'type'>;
export type AckFrame = GroupAck;
/** A read or delivered receipt: `by` has read (or received) everything up to `upToMessageId`. */
export interface ReceiptEvent {
  kind: 'read' | 'delivered';
  conversationId: string;
  by: string;
  upToMessageId: string;
}

/** What a session emits, by event name. */
export interface RealtimeEvents {
  /** Getting a ticket and opening a socket (attempt 1 is the first connect). */
  connecting: { attempt: number };
  /** The socket is open; unacked sends are resent and the catch-up runs. */
  open: { attempt: number };
  /** The socket ended and a new one follows after `delayMs` (`code`/`reason`: why it ended). */
  reconnecting: { attempt: number; delayMs: number; code: number; reason: string };
  /** The session is over and will not reconnect: close() was called (1000), or the close code's table entry says retrying cannot help. */
  closed: { code: number; reason: string; error?: Error };
  message: IncomingMessage;
  ack: AckFrame;
  receipt: ReceiptEvent;
  typing: Omit<FrameOf<'typing'>, 'type'>;
  presence: Omit<FrameOf<'presence'>, 'type'>;
  /** A partner published a new key (identityChanged: a new identity key, verify the safety number again). */
  keyChanged: Omit<FrameOf<'keyChanged'>, 'type'>;
  /** A group's members, roles or name changed: reload it. */
  groupUpdated: Omit<FrameOf<'groupUpdated'>, 'type'>;
  /** A new device joined this account: show it, so a link nobody expected is noticed. */
  deviceLinked: Omit<FrameOf<'deviceLinked'>, 'type'>;
  /** An error frame no send was waiting for, or a failed catch-up (the session goes on). */
  error: ApiError;
}

export type RealtimeEventName = keyof RealtimeEvents;

/** What send() takes: a sendMessage frame without `action`; `clientMessageId` is made when absent. */
export type OutgoingMessage = DistributiveOmit<z.input<(typeof sendMessage)['input']>, 'action' | 'clientMessageId'> & {
  clientMessageId?: string;
};
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Pending {
  frame: Record<string, unknown> & { clientMessageId: string };
  resolve: (ack: GroupAck) => void;
  reject: (error: unknown) => void;
  /** Sent on the current socket and waiting for its ack. */
  sent: boolean;
  sends: number;
  timer: unknown;
}

/** Reasons a retry cannot fix whose session is over: the SDK forgets the tokens (the app signs in again). */
const SIGNED_OUT = new Set(['signed_out', 'token_revoked', 'device_revoked', 'account_suspended', 'account_deleted', 'account_banned']);
/** How many message ids the session remembers to drop a message seen twice (live and in the catch-up). */
const SEEN_IDS = 5000;

/**
 * A WebSocket that stays connected: a fresh ticket for every connect, reconnects with exponential
 * backoff and full jitter, a keep-alive ping, typed events, sends that resolve on their ack (resent
 * with the same clientMessageId after a reconnect: the server stores them once), and a catch-up through
 * GET /api/messages/sync after every connect. Close codes 4000-4999 (contract/realtime/close-codes.ts,
 * docs/realtime.md) end it for good when the table says a retry cannot help. Make it with
 * `client.realtime()`; `start()` connects.
 */
export class RealtimeSession {
  private readonly api: ApiClient;
  private readonly o: RealtimeOptions;
  private readonly timers: SessionTimers;
  private readonly listeners = new Map<RealtimeEventName, Set<(event: never) => void>>();
  private socket: WebSocket | undefined;
  private running = false;
  private attempt = 0;
  private reconnectTimer: unknown;
  /** A ticket fetched to learn why an upgrade was refused: the next connect uses it. */
  private spareTicket: string | undefined;
  /** The close an error frame announced for the current socket. */
  private notice: CloseInfo | undefined;
  private readonly outbox: Pending[] = [];
  private readonly seen = new Set<string>();
  private cursor: string | undefined;
  private syncing: Promise<void> | undefined;
  private stopKeepAlive: (() => void) | undefined;

  constructor(api: ApiClient, options: RealtimeOptions = {}) {
    this.api = api;
    this.o = options;
    this.timers = options.timers ?? globalSessionTimers;
    this.cursor = options.cursor;
  }

  /** `open` while a socket is open, `connecting` while getting one, `closed` when stopped. */
  get state(): 'connecting' | 'open' | 'closed' {
    return !this.running ? 'closed' : this.socket?.readyState === OPEN ? 'open' : 'connecting';
  }

  /** The catch-up's position: persist it (or use onCursor) to resume the next session there. */
  get syncCursor(): string | undefined {
    return this.cursor;
  }

  /** Adds a listener; returns the function that removes it. */
  on<K extends RealtimeEventName>(event: K, listener: (event: RealtimeEvents[K]) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener as (event: never) => void);
    this.listeners.set(event, set);
    return () => this.off(event, listener);
  }

  off<K extends RealtimeEventName>(event: K, listener: (event: RealtimeEvents[K]) => void): void {
    this.listeners.get(event)?.delete(listener as (event: never) => void);
  }

  private emit<K extends RealtimeEventName>(event: K, payload: RealtimeEvents[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as (event: RealtimeEvents[K]) => void)(payload);
      } catch {
        // a listener's bug must not stop the session
      }
    }
  }

  /** Connects (and keeps connecting); resolves once the first socket is open, rejects if the session ends first. */
  start(): Promise<void> {
    if (!this.running) {
      this.running = true;
      this.attempt = 0;
      void this.connect();
    }
    if (this.state === 'open') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const offOpen = this.on('open', () => (offOpen(), offClosed(), resolve()));
      const offClosed = this.on(
        'closed',
        (e) => (offOpen(), offClosed(), reject(e.error ?? new ApiError(0, 'socket_closed', `Closed: ${e.code} ${e.reason}`))),
      );
    });
  }

  /** Ends the session: no reconnect; pending sends reject. */
  close(code = 1000, reason = 'closed by the app'): void {
    if (!this.running) return;
    this.finish(code, reason, undefined, false);
  }

  /**
   * Sends a message frame (sealed already: seal(), or the group helpers) and resolves with its ack.
   * One send is on the wire at a time, and its ack or error frame is matched by clientMessageId (an error
   * frame about something else, a typing frame's, never fails it); a send whose socket closed is resent with the same clientMessageId after the reconnect (the server stores it once).
   */
  send(message: OutgoingMessage, opts: CallOptions = {}): Promise<GroupAck> {
    if (!this.running) return Promise.reject(new ApiError(0, 'socket_closed', 'The realtime session is not started'));
    opts.signal?.throwIfAborted();
    const frame = { action: 'sendMessage', ...message, clientMessageId: message.clientMessageId ?? randomId() };
    return new Promise<GroupAck>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? this.o.ackTimeoutMs ?? 30_000;
      const entry: Pending = { frame, resolve, reject, sent: false, sends: 0, timer: undefined };
      const fail = (error: unknown) => {
        const i = this.outbox.indexOf(entry);
        if (i < 0) return;
        this.outbox.splice(i, 1);
        this.settle(entry);
        reject(error);
        if (i === 0) this.pump();
      };
      entry.timer = timeoutMs > 0 ? this.timers.setTimeout(() => fail(new TimeoutError(timeoutMs, 'The send')), timeoutMs) : undefined;
      opts.signal?.addEventListener('abort', () => fail(opts.signal!.reason), { once: true });
      this.outbox.push(entry);
      this.pump();
    });
  }

  /** Tells the conversation's other members that this user is typing (droppable: not queued while offline). */
  typing(target: { to: string } | { conversationId: string }): void {
    this.raw({ action: 'typing', ...target });
  }

  /** Read receipt: everything up to `upToMessageId` in the conversation has been read. */
  markRead(conversationId: string, upToMessageId: string): void {
    this.raw({ action: 'markRead', conversationId, upToMessageId });
  }

  /** Delivered receipt: everything up to `upToMessageId` has reached this device. */
  delivered(conversationId: string, upToMessageId: string): void {
    this.raw({ action: 'delivered', conversationId, upToMessageId });
  }

  private raw(frame: Record<string, unknown>): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(frame));
  }

  private settle(entry: Pending): void {
    if (entry.timer !== undefined) this.timers.clearTimeout(entry.timer);
  }

  /** Puts the oldest unsent message on the wire when the socket is open and nothing waits for an ack. */
  private pump(): void {
    const head = this.outbox[0];
    if (!head || head.sent || this.socket?.readyState !== OPEN) return;
    head.sent = true;
    head.sends++;
    this.socket.send(JSON.stringify(head.frame));
  }

  // ---- connecting --------------------------------------------------------------------------------

  private async connect(): Promise<void> {
    if (!this.running) return;
    this.attempt++;
    this.emit('connecting', { attempt: this.attempt });
    let ticket = this.spareTicket;
    this.spareTicket = undefined;
    if (!ticket) {
      try {
        ticket = (await this.api.call('CreateWsTicket', {})).ticket;
      } catch (error) {
        return this.ticketRefused(error);
      }
    }
    if (!this.running) return;
    const Socket = this.api.opts.WebSocket ?? globalThis.WebSocket;
    let ws: WebSocket;
    try {
      ws = new Socket(`${this.api.opts.wsUrl}/?ticket=${encodeURIComponent(ticket)}`);
    } catch (error) {
      return this.retry(4011, 'unavailable', error);
    }
    this.socket = ws;
    this.notice = undefined;
    let opened = false;
    ws.addEventListener('open', () => {
      if (this.socket !== ws) return;
      opened = true;
      this.opened(ws);
    });
    ws.addEventListener('message', (event) => {
      if (this.socket === ws) this.frame(ws, (event as { data: unknown }).data);
    });
    ws.addEventListener('close', (event) => {
      if (this.socket !== ws) return;
      this.socket = undefined;
      this.stopKeepAlive?.();
      for (const p of this.outbox) p.sent = false; // unacked: resent after the reconnect
      const { code, reason } = event as { code: number; reason: string };
      if (!opened) return void this.upgradeRefused();
      const info = this.notice ?? { code, reason };
      this.closedWith(info.code, info.reason);
    });
  }

  private opened(ws: WebSocket): void {
    const every = this.api.opts.keepAliveMs ?? KEEP_ALIVE_MS;
    if (every > 0) {
      const handle = this.timers.setInterval(() => ws.readyState === OPEN && ws.send(PING_FRAME), every);
      this.stopKeepAlive = () => this.timers.clearInterval(handle);
    }
    const attempt = this.attempt;
    this.attempt = 0;
    this.emit('open', { attempt });
    this.pump();
    if (this.o.catchUp !== false) void this.catchUp();
  }

  /**
   * The upgrade was refused and a browser cannot see why (close 1006): the ticket route says. A new
   * ticket means the old one was stale (4010: connect with it); its 401 became SessionExpired (the
   * session is over); 429 and 5xx mean back off (4008, 4011).
   */
  private async upgradeRefused(): Promise<void> {
    if (!this.running) return;
    try {
      this.spareTicket = (await this.api.call('CreateWsTicket', {})).ticket;
      this.retry(closeCodes.ticket_invalid.code, 'ticket_invalid');
    } catch (error) {
      this.ticketRefused(error);
    }
  }

  private ticketRefused(error: unknown): void {
    if (error instanceof SessionExpired) return this.finish(closeCodes.ticket_invalid.code, 'ticket_invalid', error, true);
    if (error instanceof ApiError && error.status === 429) return this.retry(closeCodes.throttled.code, 'throttled', error, error.retryAfterSeconds);
    if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 408) {
      // 403 account_suspended / account_banned and the like: retrying cannot help
      const known = closeFor(error.code);
      return this.finish(known?.code ?? closeCodes.ticket_invalid.code, error.code, error, true);
    }
    this.retry(closeCodes.unavailable.code, 'unavailable', error, error instanceof ApiError ? error.retryAfterSeconds : undefined);
  }

  private closedWith(code: number, reason: string): void {
    const entry = Object.hasOwn(closeCodes, reason) ? (closeCodes as Record<string, { code: number; retry: boolean }>)[reason] : undefined;
    const byCode = Object.entries(closeCodes).find(([, c]) => c.code === code);
    const known = entry ?? (byCode ? byCode[1] : undefined);
    const why = entry ? reason : byCode ? byCode[0] : reason;
    if (known && !known.retry) return this.finish(code, why, new ApiError(0, why as ApiErrorCode, `The server ended the session: ${why}`), SIGNED_OUT.has(why));
    this.retry(code, reason);
  }

  /** Schedules the next connect: full jitter over an exponential ceiling (at least `minSeconds`). */
  private retry(code: number, reason: string, error?: unknown, minSeconds?: number): void {
    if (!this.running) return;
    if (error instanceof ApiError && error.status === 0 && !(error instanceof NetworkError) && !(error instanceof TimeoutError)) {
      // not a network problem: report it, still retry
      this.emit('error', error);
    }
    const base = this.o.backoff?.baseMs ?? 500;
    const max = this.o.backoff?.maxMs ?? 30_000;
    const ceiling = Math.min(max, base * 2 ** Math.max(0, this.attempt - 1));
    const delayMs = Math.max(Math.floor((this.o.random ?? Math.random)() * ceiling), (minSeconds ?? 0) * 1000);
    this.emit('reconnecting', { attempt: this.attempt + 1, delayMs, code, reason });
    this.reconnectTimer = this.timers.setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delayMs);
  }

  private finish(code: number, reason: string, error: Error | undefined, signOut: boolean): void {
    this.running = false;
    if (this.reconnectTimer !== undefined) this.timers.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.stopKeepAlive?.();
    const ws = this.socket;
    this.socket = undefined;
    if (ws && ws.readyState <= OPEN) ws.close(code >= 4000 && code <= 4999 ? code : 1000, reason.slice(0, 120));
    const failure = error ?? new ApiError(0, 'socket_closed', `The realtime session closed: ${reason}`);
    for (const entry of this.outbox.splice(0)) {
      this.settle(entry);
      entry.reject(failure);
    }
    if (signOut) this.api.setTokens(null);
    this.emit('closed', { code, reason, ...(error ? { error } : {}) });
  }

  // ---- frames ------------------------------------------------------------------------------------

  private frame(ws: WebSocket, data: unknown): void {
    let f: Record<string, unknown> & { type?: unknown };
    try {
      f = JSON.parse(String(data));
    } catch {
      return;
    }
    if (!f || typeof f !== 'object') return;
    const { type, ...rest } = f;
    switch (type) {
      case 'message':
        return this.deliver(rest as IncomingMessage);
      case 'ack': {
        const ack = rest as unknown as GroupAck;
        const i = this.outbox.findIndex((p) => p.frame.clientMessageId === ack.clientMessageId);
        if (i >= 0) {
          const [entry] = this.outbox.splice(i, 1);
          this.settle(entry!);
          entry!.resolve(ack);
        }
        this.emit('ack', ack);
        return this.pump();
      }
      case 'read':
      case 'delivered':
        return this.emit('receipt', { kind: type, ...(rest as Omit<ReceiptEvent, 'kind'>) });
      case 'typing':
      case 'presence':
      case 'keyChanged':
      case 'groupUpdated':
      case 'deviceLinked':
        return this.emit(type, rest as never);
      case 'error':
        return this.errorFrame(ws, f as unknown as ErrorFrame);
      default:
        return; // pong, and frames newer than this SDK
    }
  }

  private errorFrame(ws: WebSocket, f: ErrorFrame): void {
    const error = new ApiError(f.code === 'members_changed' ? 409 : 0, f.code as ApiErrorCode, f.message ?? 'error frame', f.details, f.retryAfterSeconds);
    if (f.close && typeof f.close.code === 'number') {
      // the server ends this socket next; on AWS its close carries no code of ours, so this frame is the signal
      this.notice = { code: f.close.code, reason: String(f.close.reason ?? f.code) } as CloseInfo;
      if (ws.readyState === OPEN) ws.close(f.close.code, this.notice.reason.slice(0, 120));
      return;
    }
    // the server names the send an error answers (clientMessageId); an error naming none is not a send's
    const i = f.clientMessageId === undefined ? -1 : this.outbox.findIndex((p) => p.sent && p.frame.clientMessageId === f.clientMessageId);
    if (i >= 0) {
      const [entry] = this.outbox.splice(i, 1);
      this.settle(entry!);
      entry!.reject(error);
      return this.pump();
    }
    this.emit('error', error);
  }

  /** Emits a message once per messageId (a push and the catch-up may both bring it). */
  private deliver(message: IncomingMessage): void {
    if (this.seen.has(message.messageId)) return;
    this.seen.add(message.messageId);
    if (this.seen.size > SEEN_IDS) this.seen.delete(this.seen.values().next().value!);
    this.emit('message', message);
  }

  /** Pages through GET /api/messages/sync from the cursor until it has no more (one catch-up at a time). */
  private catchUp(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        for (let page = 0; page < 1000 && this.running; page++) {
          const res = await this.api.call('SyncMessages', { query: { after: this.cursor } });
          for (const m of res.messages) this.deliver(m);
          if (res.cursor !== this.cursor) {
            this.cursor = res.cursor;
            this.o.onCursor?.(res.cursor);
          }
          if (!res.hasMore) break;
        }
      } catch (error) {
        if (this.running) this.emit('error', error instanceof ApiError ? error : new NetworkError(String(error), error));
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }
}

interface ErrorFrame {
  type: 'error';
  /** The clientMessageId and action of the frame it answers (absent for notices). */
  clientMessageId?: string;
  action?: string;
  code: string;
  message?: string;
  details?: unknown;
  retryAfterSeconds?: number;
  close?: { code: number; reason?: string };
}
