// Access and refresh tokens (jose JWTs, HS256 with 256-bit derived keys, `kid` for rotation).
// The two kinds differ in key, `typ` and audience, and verification pins algorithm, issuer,
// audience and typ and requires exp, so one can never pass for the other (RFC 8725).
import { createHash, randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { Unauthorized } from './errors.ts';
import type { AuthKeys, KeySet } from './signing-keys.ts';

export const ACCESS_TYP = 'at+jwt'; // RFC 9068
export const REFRESH_TYP = 'rt+jwt';
const ALG = 'HS256';

export interface TokenSettings {
  issuer: string;
  accessAudience: string;
  refreshAudience: string;
  accessTtlSeconds: number;
}

export interface AccessClaims {
  sub: string;
  sid: string;
  role: string;
  iat: number;
  exp: number;
  jti: string;
}

export interface RefreshClaims {
  sub: string;
  sid: string;
  iat: number;
  exp: number;
  jti: string;
}

export async function issueAccessToken(keys: AuthKeys, s: TokenSettings, c: { sub: string; sid: string; role: string }, now: number) {
  const iat = Math.floor(now / 1000);
  const token = await new SignJWT({ sid: c.sid, role: c.role })
    .setProtectedHeader({ alg: ALG, typ: ACCESS_TYP, kid: keys.current.kid })
    .setIssuer(s.issuer)
    .setAudience(s.accessAudience)
    .setSubject(c.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + s.accessTtlSeconds)
    .setJti(randomUUID())
    .sign(keys.current.accessKey);
  return { token, expiresIn: s.accessTtlSeconds };
}

/** Refresh tokens expire with their family (absolute lifetime, not sliding). */
export async function issueRefreshToken(keys: AuthKeys, s: TokenSettings, c: { sub: string; sid: string; expiresAt: number }, now: number) {
  return new SignJWT({ sid: c.sid })
    .setProtectedHeader({ alg: ALG, typ: REFRESH_TYP, kid: keys.current.kid })
    .setIssuer(s.issuer)
    .setAudience(s.refreshAudience)
    .setSubject(c.sub)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(c.expiresAt)
    .setJti(randomUUID())
    .sign(keys.current.refreshKey);
}

async function verify(token: string, keys: AuthKeys, pick: (k: KeySet) => Uint8Array, typ: string, issuer: string, audience: string, now: number) {
  const key = (header: JWTHeaderParameters) => {
    const set = header.kid ? keys.byKid.get(header.kid) : undefined;
    if (!set) throw new Error('unknown kid');
    return pick(set);
  };
  const { payload } = await jwtVerify(token, key, {
    algorithms: [ALG],
    issuer,
    audience,
    typ,
    requiredClaims: ['exp', 'iat', 'sub', 'jti', 'sid'],
    currentDate: new Date(now),
  });
  return payload;
}

function str(payload: JWTPayload, name: string): string {
  const v = payload[name];
  if (typeof v !== 'string' || v.length === 0) throw new Error(`claim ${name} missing`);
  return v;
}

export async function verifyAccessToken(token: string, keys: AuthKeys, s: TokenSettings, now: number): Promise<AccessClaims> {
  try {
    const p = await verify(token, keys, (k) => k.accessKey, ACCESS_TYP, s.issuer, s.accessAudience, now);
    return { sub: str(p, 'sub'), sid: str(p, 'sid'), role: str(p, 'role'), jti: str(p, 'jti'), iat: p.iat!, exp: p.exp! };
  } catch {
    throw new Unauthorized('Access token is invalid or expired', 'invalid_token');
  }
}

export async function verifyRefreshToken(token: string, keys: AuthKeys, s: TokenSettings, now: number): Promise<RefreshClaims> {
  try {
    const p = await verify(token, keys, (k) => k.refreshKey, REFRESH_TYP, s.issuer, s.refreshAudience, now);
    return { sub: str(p, 'sub'), sid: str(p, 'sid'), jti: str(p, 'jti'), iat: p.iat!, exp: p.exp! };
  } catch {
    throw new Unauthorized('Refresh token is invalid or expired', 'invalid_refresh_token');
  }
}

/** Only this digest of a refresh token is stored (the token itself has 128+ bits of entropy). */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
