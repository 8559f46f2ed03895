// JSON calls to the HTTP API with transparent token refresh: on a 401 that refused the access token,
// one refresh for every request waiting on the same token, then each request retried once.
import { fromBase64Url, fromUtf8 } from './bytes.ts';
import { ApiError, SessionExpired } from './errors.ts';
import type { KeepAliveTimers } from './realtime.ts';

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

/** The HTTP half of the client: tokens, refresh, and `request()`. NexChatClient builds on it. */
export class ApiClient {
  protected tokens: Tokens | undefined;
  private refreshing: Promise<void> | undefined;
  readonly opts: ClientOptions;
  readonly doFetch: typeof fetch;

  constructor(opts: ClientOptions) {
    this.opts = opts;
    this.tokens = opts.tokens;
    this.doFetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  get signedIn(): boolean {
    return this.tokens !== undefined;
  }

  /**
   * A JSON API call. Signed-in calls refresh once on a 401 that refused the access token, and retry;
   * auth routes never do, nor does a 401 about something else (a wrong `reauth` code).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the untyped escape hatch; call() is the typed one
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

  /** Replaces the tokens and tells the app (null: the session is over). */
  setTokens(tokens: Tokens | null): void {
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

  /** The signed-in user's id, from the access token's subject (the SDK never verifies tokens: the server does). */
  async ownUserId(): Promise<string> {
    if (!this.tokens) await this.request('GET', '/api/users/me'); // throws the usual 401 when signed out
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
