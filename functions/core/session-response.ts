// How issued tokens reach clients: the JSON body `{ user, accessToken, refreshToken, expiresIn }`
// for native apps, and the refresh token again as an HttpOnly; Secure; SameSite=Strict cookie
// scoped to /api/auth for browsers.
import type { TokenResponse } from './identity.ts';

export const REFRESH_COOKIE = '__Secure-nexchat-refresh';
const attributes = 'Path=/api/auth; HttpOnly; Secure; SameSite=Strict';

export function tokenResult<T extends TokenResponse, S extends 200 | 201>(tokens: T, statusCode: S) {
  const { refreshMaxAgeSeconds: maxAge, ...body } = tokens;
  return { statusCode, body, cookies: [`${REFRESH_COOKIE}=${tokens.refreshToken}; Max-Age=${maxAge}; ${attributes}`] };
}

export const clearRefreshCookie = `${REFRESH_COOKIE}=; Max-Age=0; ${attributes}`;

export function readCookie(cookies: readonly string[] | undefined, name: string): string | undefined {
  for (const c of cookies ?? []) {
    const i = c.indexOf('=');
    if (i > 0 && c.slice(0, i).trim() === name) return c.slice(i + 1).trim() || undefined;
  }
  return undefined;
}
