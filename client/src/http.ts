// JSON calls to the HTTP API: typed by the contract (call()), with a timeout and an AbortSignal on
// every call, errors as classes (errors.ts), and transparent token refresh: on a 401 that refused the
// access token, one refresh for every request waiting on the same token, then each request retried
// once. Tokens travel in bodies (native apps, Node) or, in cookie mode (browsers), the refresh token
// stays in the server's HttpOnly cookie and never reaches JavaScript.
import type * as z from 'zod/mini';
import { fromBase64Url, fromUtf8 } from './bytes.ts';
import { ApiError, NetworkError, RateLimited, SessionExpired, TimeoutError, type ApiErrorCode } from './errors.ts';
import type { KeepAliveTimers } from './realtime.ts';
import type { KeyStore } from './trust.ts';
import { routeTable, type RouteContracts, type RouteId } from './routes.ts';

export interface Tokens {
  accessToken: string;
  /** Absent in cookie mode: the browser keeps it in an HttpOnly cookie. */
  refreshToken?: string;
}

/** The WebSocket constructor the SDK uses (the browser's, Node ≥ 22's global, or `ws`'s). */
export type WebSocketConstructor = new (url: string) => WebSocket;

export interface ClientOptions {
  /** e.g. http://localhost:3000 */
  baseUrl: string;
  /** e.g. ws://localhost:3001 */
  wsUrl: string;
  tokens?: Tokens;
  /** Called whenever tokens change (persist them), and with null when the session is over. */
  onTokens?: (tokens: Tokens | null) => void;
  /**
   * `body` (default): the refresh token comes back in JSON and is sent in the refresh call's body (keep
   * it safe). `cookie` (browsers): every call is made with `credentials: 'include'`, the server's
   * HttpOnly refresh cookie does the refreshing, and the SDK never holds a refresh token.
   */
  auth?: 'body' | 'cookie';
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Defaults to the global WebSocket (browsers, Node ≥ 22); pass `ws`'s on Node 20. */
  WebSocket?: WebSocketConstructor;
  /** Every call gives up after this long with TimeoutError (default 15 s; 0: never). Per call: `{ timeoutMs }`. */
  timeoutMs?: number;
  /**
   * Sockets from connect() send `{"action":"ping"}` this often (the server answers `pong`), since
   * API Gateway closes a socket idle for 10 minutes. Default 5 minutes; 0 turns it off; must be
   * under 10 minutes.
   */
  keepAliveMs?: number;
  /** The timers the keep-alive uses (tests pass fakes); defaults to the global ones. */
  timers?: KeepAliveTimers;
  /** Where trust-on-first-use decisions live (default: MemoryKeyStore; browsers: IndexedDbKeyStore). */
  keyStore?: KeyStore;
}

/** What every call accepts: a signal to abort it, and its own timeout. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides ClientOptions.timeoutMs for this call (0: no timeout). */
  timeoutMs?: number;
}

/** The default time a call waits for its answer. */
export const DEFAULT_TIMEOUT_MS = 15_000;

// ---- the contract's types for call() ----------------------------------------------------------

type In<S> = S extends z.ZodMiniType ? z.input<S> : never;
type Out<S> = S extends z.ZodMiniType ? z.output<S> : undefined;
/** A part that may be left out when its schema accepts undefined or has only optional fields. */
type Part<K extends string, S> = [S] extends [undefined]
  ? { [P in K]?: undefined }
  : undefined extends In<S>
    ? { [P in K]?: In<S> }
    : Record<never, never> extends In<S>
      ? { [P in K]?: In<S> }
      : { [P in K]: In<S> };

/** What call(id, input) takes: `path` parameters, `query` and `body`, each typed by the route's input schema. */
export type RouteInput<K extends RouteId> = Part<'path', RouteContracts[K]['input'] extends { path: infer S } ? S : undefined> &
  Part<'query', RouteContracts[K]['input'] extends { query: infer S } ? S : undefined> &
  Part<'body', RouteContracts[K]['input'] extends { body: infer S } ? S : undefined>;

type Outputs<K extends RouteId> = RouteContracts[K]['output'];
/** What call() resolves with: the body of any 2xx the route's contract names (undefined for 204). */
export type RouteOutput<K extends RouteId> = { [S in keyof Outputs<K> & number]: `${S}` extends `2${string}` ? Out<Outputs<K>[S]> : never }[keyof Outputs<K> &
  number];

/** `/api/groups/{conversationId}` with its parameters, each URI-encoded; a missing one is a TypeError. */
export function fillPath(template: string, params: Record<string, unknown> | undefined): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined || value === null || value === '') throw new TypeError(`Path parameter "${name}" is required for ${template}`);
    return encodeURIComponent(String(value));
  });
}

function queryString(query: Record<string, unknown> | undefined): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null) continue;
    for (const item of Array.isArray(v) ? v : [v]) q.append(k, String(item));
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

/** Retry-After in seconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The HTTP half of the client: tokens, refresh, `call()` and `request()`. NexChatClient builds on it. */
export class ApiClient {
  protected tokens: Tokens | undefined;
  private refreshing: Promise<void> | undefined;
  readonly opts: ClientOptions;
  readonly doFetch: typeof fetch;

  constructor(opts: ClientOptions) {
    this.opts = opts;
    this.tokens = opts.tokens;
    this.doFetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeout) || timeout < 0) throw new RangeError(`timeoutMs must be 0 (none) or a positive number, got ${timeout}`);
  }

  get signedIn(): boolean {
    return this.tokens !== undefined;
  }

  /** The current tokens (to persist them yourself); undefined when signed out. */
  get currentTokens(): Tokens | undefined {
    return this.tokens && { ...this.tokens };
  }

  private get cookieMode(): boolean {
    return this.opts.auth === 'cookie';
  }

  /**
   * A call by route id (the contract's `id`, e.g. `GetGroup`), typed by the route's schemas: `path`
   * parameters are substituted and encoded, `query` becomes the query string, `body` is sent as JSON.
   * Resolves with the 2xx body (undefined for 204); throws ApiError (or one of its subclasses).
   */
  call<K extends RouteId>(id: K, input: RouteInput<K>, opts: CallOptions = {}): Promise<RouteOutput<K>> {
    const route = routeTable[id] as { method: string; path: string };
    if (!route) return Promise.reject(new TypeError(`Unknown route id ${String(id)}`));
    const { path, query, body } = input as { path?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown };
    return this.request(route.method, `${fillPath(route.path, path)}${queryString(query)}`, body, opts);
  }

  /**
   * A JSON API call by method and path (untyped: prefer call()). Signed-in calls refresh once on a 401
   * that refused the access token, and retry; auth routes never do, nor does a 401 about something else
   * (a wrong `reauth` code).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the untyped escape hatch; call() is the typed one
  async request<T = any>(method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<T> {
    const tokenUsed = this.tokens?.accessToken;
    try {
      return await this.send<T>(method, path, body, tokenUsed, opts);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401 || path.startsWith('/api/auth/')) throw error;
      const refusedToken = error.code === 'invalid_token' || error.code === 'token_revoked';
      // cookie mode: no access token yet (a reloaded page) is worth a refresh too; the cookie may still be good
      if (!(tokenUsed ? refusedToken : this.cookieMode && (refusedToken || error.code === 'missing_token'))) throw error;
      await this.refreshOnce(tokenUsed, opts);
      return this.send<T>(method, path, body, this.tokens?.accessToken, opts);
    }
  }

  /**
   * Cookie mode: gets an access token from the refresh cookie (after a page load, before the first
   * call). Resolves false when there is no live session (sign in), true otherwise.
   */
  async resume(opts: CallOptions = {}): Promise<boolean> {
    try {
      await this.refreshOnce(this.tokens?.accessToken, opts);
      return true;
    } catch (error) {
      if (error instanceof SessionExpired) return false;
      throw error;
    }
  }

  /**
   * Every request that failed with the same access token waits for one shared refresh. A request
   * whose token was already replaced just retries with the new one.
   */
  private async refreshOnce(failedToken: string | undefined, opts: CallOptions): Promise<void> {
    if (this.tokens && this.tokens.accessToken !== failedToken) return;
    this.refreshing ??= (async () => {
      try {
        const refreshToken = this.tokens?.refreshToken;
        if (!refreshToken && !this.cookieMode) throw new ApiError(401, 'not_signed_in', 'Not signed in');
        const res = await this.send<{ accessToken: string; refreshToken: string }>(
          'POST',
          '/api/auth/refresh',
          this.cookieMode ? undefined : { refreshToken },
          undefined,
          { timeoutMs: opts.timeoutMs },
        );
        this.acceptTokens(res);
      } catch (error) {
        // only a refusal ends the session; a network failure or timeout leaves the tokens for a later try
        if (!(error instanceof ApiError) || error.status === 0 || error.status >= 500 || error instanceof RateLimited) throw error;
        this.setTokens(null);
        throw new SessionExpired(error);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Keeps the tokens of a sign-in or refresh answer (cookie mode: the access token only). */
  acceptTokens(res: { accessToken: string; refreshToken?: string }): void {
    this.setTokens(this.cookieMode || !res.refreshToken ? { accessToken: res.accessToken } : { accessToken: res.accessToken, refreshToken: res.refreshToken });
  }

  /** Replaces the tokens and tells the app (null: the session is over). */
  setTokens(tokens: Tokens | null): void {
    this.tokens = tokens ?? undefined;
    this.opts.onTokens?.(tokens);
  }

  private async send<T>(method: string, path: string, body: unknown, accessToken: string | undefined, opts: CallOptions): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (accessToken) headers.authorization = `Bearer ${accessToken}`;
    const init: RequestInit = { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) };
    if (this.cookieMode) init.credentials = 'include';
    return this.withDeadline(opts, `${method} ${path}`, async (signal) => {
      init.signal = signal;
      let res: Response;
      let text: string;
      try {
        res = await this.doFetch(`${this.opts.baseUrl}${path}`, init);
        text = await res.text();
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw new NetworkError(`${method} ${path} did not reach the server: ${error instanceof Error ? error.message : String(error)}`, error);
      }
      return parseResponse<T>(res, text, `${method} ${path}`);
    });
  }

  /**
   * Runs `fn` with a signal that aborts on the caller's signal (its reason is rethrown) or after the
   * timeout (TimeoutError).
   */
  async withDeadline<T>(opts: CallOptions, what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    opts.signal?.throwIfAborted();
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const controller = new AbortController();
    const onAbort = () => controller.abort(opts.signal!.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = timeoutMs > 0 ? setTimeout(() => controller.abort(new TimeoutError(timeoutMs, what)), timeoutMs) : undefined;
    try {
      return await fn(controller.signal);
    } catch (error) {
      throw controller.signal.aborted ? controller.signal.reason : error;
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The signed-in user's id, from the access token's subject (the SDK never verifies tokens: the server does). */
  async ownUserId(opts: CallOptions = {}): Promise<string> {
    if (!this.tokens) await this.request('GET', '/api/users/me', undefined, opts); // the usual 401 when signed out (cookie mode: a refresh)
    let sub: unknown;
    try {
      sub = (JSON.parse(fromUtf8(fromBase64Url(this.tokens!.accessToken.split('.')[1] ?? ''))) as { sub?: unknown }).sub;
    } catch {
      sub = undefined;
    }
    if (typeof sub !== 'string') throw new ApiError(0, 'token_unreadable', 'The access token names no user');
    return sub;
  }
}

/**
 * A response as the SDK sees it: the JSON body of a 2xx; an ApiError (RateLimited for 429) from the
 * `{ error }` body of anything else. A body that is not JSON (a gateway's HTML 502, a proxy page) is
 * an ApiError `http_error` naming the status and the content type, never a SyntaxError.
 */
export function parseResponse<T>(res: Response, text: string, what: string): T {
  let json: unknown;
  let parsed = text.length === 0;
  if (!parsed) {
    try {
      json = JSON.parse(text);
      parsed = true;
    } catch {
      parsed = false;
    }
  }
  const wait = retryAfter(res.headers.get('retry-after'));
  if (!parsed) {
    const type = res.headers.get('content-type') ?? 'no content type';
    const message = `${what} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''} with a body that is not JSON (${type})`;
    if (res.status === 429) throw new RateLimited(message, wait ?? 1);
    throw new ApiError(res.status, 'http_error', message, { contentType: type, body: text.slice(0, 200) }, wait);
  }
  if (res.ok) return json as T;
  const e = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  const message = typeof e?.message === 'string' ? e.message : `${what} answered ${res.status}`;
  const details = e?.details;
  if (res.status === 429) {
    const fromBody = (details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    throw new RateLimited(message, wait ?? (typeof fromBody === 'number' ? fromBody : 1), details);
  }
  // API Gateway's own errors are `{ "message": "..." }` without a code
  const code = typeof e?.code === 'string' ? (e.code as ApiErrorCode) : 'http_error';
  const plain = (json as { message?: unknown } | undefined)?.message;
  throw new ApiError(res.status, code, typeof e?.message === 'string' ? message : typeof plain === 'string' ? plain : message, details, wait);
}
