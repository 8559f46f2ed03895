// The WebSocket: a single-use ticket per connect (tokens never go in URLs), a keep-alive ping under
// API Gateway's idle timeout, the device-revoked close, and sends that wait for their ack.
import { ApiError, type ApiErrorCode } from './errors.ts';
import type { ApiClient } from './http.ts';

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

/** Sends queued per socket, oldest first (error frames name no message, so one at a time). */
const socketSends = new WeakMap<WebSocket, Promise<unknown>>();

/** One send in flight per socket (error frames name no message), direct and group sends alike. */
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
 * Sends one frame and waits for its ack (by clientMessageId) or an error frame. Error frames name no
 * message, so callers keep one send in flight per socket (queuedSocketSend()).
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
