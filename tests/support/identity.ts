// Test support for identity: read codes from the dev outbox, sign up and sign in like an app would.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nacl from 'tweetnacl';
import type { Runtime } from '../../local/runtime.ts';
import { openSocket, request, type HttpReply, type TestSocket } from './runtime.ts';

export interface OutboxLine {
  channel: 'email' | 'sms';
  destination: string;
  purpose: string;
  code: string;
  sentAt: string;
}

/** The dev outbox once the OTP queue has delivered everything sent so far (delivery is asynchronous, as in AWS). */
/** Where codes can be read: the dev outbox, once the OTP queue has delivered what it holds. */
export type CodeSource = Pick<Runtime, 'outboxFile'> & { queues: { otp: { drained(): Promise<void> } } };

export async function outbox(rt: CodeSource): Promise<OutboxLine[]> {
  await rt.queues.otp.drained();
  try {
    return readFileSync(rt.outboxFile, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

export async function lastCode(rt: CodeSource, destination: string, purpose: string): Promise<string> {
  const line = (await outbox(rt)).filter((l) => l.destination === destination && l.purpose === purpose).at(-1);
  if (!line) throw new Error(`no ${purpose} code sent to ${destination}`);
  return line.code;
}

let counter = 0;
export function uniqueEmail(tag = 'user'): string {
  return `${tag}.${process.pid}.${Date.now()}.${++counter}@example.test`;
}

export interface Account {
  email: string;
  password: string;
  userId: string;
  accessToken: string;
  refreshToken: string;
}

export async function requestCode(rt: Pick<Runtime, 'httpUrl'>, destination: string, purpose: string, channel = 'email'): Promise<HttpReply> {
  return request(rt.httpUrl, 'POST', '/api/auth/otp/request', { body: { channel, destination, purpose } });
}

/** Registers through the OTP flow; `passwordless: true` makes an account that logs in by code. */
export async function signUp(
  rt: Pick<Runtime, 'httpUrl'> & CodeSource,
  opts: { email?: string; password?: string; displayName?: string; passwordless?: boolean } = {},
): Promise<Account> {
  const email = opts.email ?? uniqueEmail();
  const password = opts.passwordless ? undefined : (opts.password ?? 'violet-otter-sings-42');
  const otp = await requestCode(rt, email, 'register');
  if (otp.status !== 202) throw new Error(`otp request failed: ${otp.status} ${otp.text}`);
  const res = await request(rt.httpUrl, 'POST', '/api/auth/register', {
    body: { email, password, displayName: opts.displayName ?? 'Test User', code: await lastCode(rt, email, 'register') },
  });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
  return { email, password: password ?? '', userId: res.json.user.userId, accessToken: res.json.accessToken, refreshToken: res.json.refreshToken };
}

export async function logIn(rt: Runtime, email: string, password: string): Promise<HttpReply> {
  return request(rt.httpUrl, 'POST', '/api/auth/login', { body: { email, password } });
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export async function me(rt: Runtime, accessToken: string): Promise<HttpReply> {
  return request(rt.httpUrl, 'GET', '/api/users/me', { headers: bearer(accessToken) });
}

export async function refreshWith(rt: Runtime, refreshToken: string): Promise<HttpReply> {
  return request(rt.httpUrl, 'POST', '/api/auth/refresh', { body: { refreshToken } });
}

/** A real client's way in: a single-use ticket over HTTP, then the WebSocket with ?ticket=. */
export async function connectAs(rt: Pick<Runtime, 'httpUrl' | 'wsUrl'>, accessToken: string): Promise<TestSocket> {
  const res = await request(rt.httpUrl, 'POST', '/api/ws/ticket', { headers: bearer(accessToken) });
  if (res.status !== 201) throw new Error(`ticket failed: ${res.status} ${res.text}`);
  return openSocket(`${rt.wsUrl}/?ticket=${res.json.ticket}`);
}

/** An account with a published key set (version 1), as the SDK publishes it; the box key pair stays here. */
export interface KeyedAccount extends Account {
  box: nacl.BoxKeyPair;
}

export async function signUpWithKeys(rt: Pick<Runtime, 'httpUrl'> & CodeSource, displayName: string): Promise<KeyedAccount> {
  const account = await signUp(rt, { displayName });
  const identity = nacl.sign.keyPair();
  const box = nacl.box.keyPair();
  const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
  const r = await request(rt.httpUrl, 'PUT', '/api/users/public-key', {
    headers: bearer(account.accessToken),
    body: { identityKey: b64(identity.publicKey), publicKey: b64(box.publicKey), signature: b64(nacl.sign.detached(box.publicKey, identity.secretKey)) },
  });
  if (![200, 201].includes(r.status)) throw new Error(`key upload failed: ${r.status} ${r.text}`);
  return { ...account, box };
}

/**
 * A group message as the SDK seals it: secretbox under a fresh key, the key boxed to every member
 * (the sender included) at their key version (1 unless `versions` says otherwise).
 */
export function sealGroup(text: string, from: KeyedAccount, members: readonly KeyedAccount[], versions: Record<string, number> = {}) {
  const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
  const key = nacl.randomBytes(32);
  const nonce = nacl.randomBytes(24);
  const keys: Record<string, { wrappedKey: string; nonce: string; keyVersion: number }> = {};
  for (const m of members) {
    const n = nacl.randomBytes(24);
    keys[m.userId] = { wrappedKey: b64(nacl.box(key, n, m.box.publicKey, from.box.secretKey)), nonce: b64(n), keyVersion: versions[m.userId] ?? 1 };
  }
  return {
    clientMessageId: randomUUID(),
    ciphertext: b64(nacl.secretbox(new TextEncoder().encode(text), nonce, key)),
    nonce: b64(nonce),
    senderKeyVersion: 1,
    keys,
  };
}
