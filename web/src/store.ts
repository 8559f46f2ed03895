// What this browser remembers between visits, in localStorage (per origin, never sent anywhere): the
// session's tokens, the account's key pairs and the sync cursor. The private keys stay on this device; a new device
// gets them only through linking (a box the server relays but cannot open).
import nacl from 'tweetnacl';
import type { DeviceKeys, Tokens } from '../../client/index.ts';

const SESSION = 'nexchat.session';
const keysName = (userId: string) => `nexchat.keys.${userId}`;

export interface Session {
  userId: string;
  tokens: Tokens;
}

function toB64(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

function fromB64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export function loadSession(): Session | undefined {
  try {
    const raw = localStorage.getItem(SESSION);
    return raw ? (JSON.parse(raw) as Session) : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session | undefined): void {
  if (session) localStorage.setItem(SESSION, JSON.stringify(session));
  else localStorage.removeItem(SESSION);
}

export function loadKeys(userId: string): DeviceKeys | undefined {
  const raw = localStorage.getItem(keysName(userId));
  if (!raw) return undefined;
  const { identity, box } = JSON.parse(raw) as { identity: string; box: string };
  return { identity: nacl.sign.keyPair.fromSecretKey(fromB64(identity)), box: nacl.box.keyPair.fromSecretKey(fromB64(box)) };
}

export function saveKeys(userId: string, keys: DeviceKeys): void {
  localStorage.setItem(keysName(userId), JSON.stringify({ identity: toB64(keys.identity.secretKey), box: toB64(keys.box.secretKey) }));
}

/** Where the realtime session's catch-up resumes for this account (GET /api/messages/sync's cursor). */
export function loadCursor(userId: string): string | undefined {
  return localStorage.getItem(`nexchat.cursor.${userId}`) ?? undefined;
}

export function saveCursor(userId: string, cursor: string): void {
  localStorage.setItem(`nexchat.cursor.${userId}`, cursor);
}

/** Safety numbers the user compared and confirmed, per peer: a changed one is no longer "verified". */
export function verifiedFingerprint(userId: string): string | undefined {
  return localStorage.getItem(`nexchat.verified.${userId}`) ?? undefined;
}

export function markVerified(userId: string, fingerprint: string): void {
  localStorage.setItem(`nexchat.verified.${userId}`, fingerprint);
}
