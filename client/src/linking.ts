// Device linking (Signal's model): the new device shows an ephemeral public key in a QR code, a
// signed-in device boxes the account's secret keys to it, the server relays only ciphertext.
// docs/devices.md.
import nacl from 'tweetnacl';
import { concatBytes, fromBase64, fromUtf8, toBase64, toBase64Url, utf8 } from './bytes.ts';
import type { DeviceKeys } from './crypto.ts';
import { ApiError, LinkMismatch } from './errors.ts';
import type { ApiClient, CallOptions } from './http.ts';
import type { KeyDirectory } from './keys.ts';

/** A fresh proof: the account password, or a `reauth` code for an account without one. */
export type Proof = { password: string } | { code: string };

export interface DeviceInfo {
  deviceId: string;
  name: string;
  createdAt: string;
  lastSeenAt: string;
  current: boolean;
}

export interface LinkRequest {
  linkId: string;
  /** Proves this device at claim: keep it on the device, never show it or put it in the QR code. */
  linkSecret: string;
  expiresIn: number;
  /** Epoch ms, by this device's clock. */
  expiresAt: number;
  deviceName: string;
  /** The ephemeral X25519 public key, standard base64. */
  publicKey: string;
  keyPair: nacl.BoxKeyPair;
  /** What the QR code shows: link id and public key, nothing secret. */
  qrPayload: string;
  /** Six digits both screens show; the user checks they match before approving. */
  verificationCode: string;
}

export interface LinkedDevice {
  user: unknown;
  deviceId: string;
  /** The account's keys, as every device of the account holds them. */
  keys: DeviceKeys;
}

const QR_PREFIX = 'nexchat://link?';

/** `nexchat://link?v=1&id=<linkId>&key=<base64url public key>`: fits a small QR code, holds nothing secret. */
export function linkQrPayload(linkId: string, publicKey: string): string {
  return `${QR_PREFIX}${new URLSearchParams({ v: '1', id: linkId, key: toBase64Url(fromBase64(publicKey)) })}`;
}

/** The link id and public key (standard base64) from a scanned payload; throws on anything else. */
export function parseLinkQr(payload: string): { linkId: string; publicKey: string } {
  if (!payload.startsWith(QR_PREFIX)) throw new Error('Not a NexChat link code');
  const q = new URLSearchParams(payload.slice(QR_PREFIX.length));
  const linkId = q.get('id') ?? '';
  const key = q.get('key') ?? '';
  if (q.get('v') !== '1' || !/^dl_[0-9a-f]{32}$/.test(linkId) || !/^[A-Za-z0-9_-]{43}$/.test(key)) throw new Error('Not a NexChat link code');
  return { linkId, publicKey: `${key.replaceAll('-', '+').replaceAll('_', '/')}=` };
}

/**
 * Six digits derived from the new device's ephemeral public key, shown on both screens: equal codes
 * mean the approving device boxes the keys to the device in the user's hand, not to a key swapped
 * in by someone else (or by the server). tweetnacl's SHA-512 (available wherever the SDK runs) over
 * a domain label and the key; the first 32 bits, modulo 10^6.
 */
export function linkVerificationCode(publicKey: string): string {
  const h = nacl.hash(concatBytes(utf8('nexchat-link-v1:'), fromBase64(publicKey)));
  const n = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
  return String(n % 1_000_000).padStart(6, '0');
}

/** On the new, signed-out device: an ephemeral key pair and a link request (NexChatClient.requestLink()). */
export async function requestLink(api: ApiClient, deviceName: string, opts: CallOptions = {}): Promise<LinkRequest> {
  const keyPair = nacl.box.keyPair();
  const publicKey = toBase64(keyPair.publicKey);
  const res = await api.call('CreateDeviceLink', { body: { publicKey, deviceName } }, opts);
  return {
    ...res,
    publicKey,
    keyPair,
    deviceName,
    qrPayload: linkQrPayload(res.linkId, publicKey),
    verificationCode: linkVerificationCode(publicKey),
    expiresAt: Date.now() + res.expiresIn * 1000,
  };
}

/** On a signed-in device: boxes the account's secret keys to the scanned key (NexChatClient.approveLink()). */
export async function approveLink(
  api: ApiClient,
  scanned: { linkId: string; publicKey: string },
  accountKeys: DeviceKeys,
  proof: Proof,
  opts: CallOptions = {},
): Promise<void> {
  const pending = await api.call('GetDeviceLink', { path: { linkId: scanned.linkId } }, opts);
  if (pending.publicKey !== scanned.publicKey) throw new LinkMismatch();
  const sender = nacl.box.keyPair();
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  const plaintext = utf8(
    JSON.stringify({ v: 1, identitySecretKey: toBase64(accountKeys.identity.secretKey), boxSecretKey: toBase64(accountKeys.box.secretKey) }),
  );
  const ciphertext = nacl.box(plaintext, nonce, fromBase64(scanned.publicKey), sender.secretKey);
  plaintext.fill(0);
  const body = { ciphertext: toBase64(ciphertext), nonce: toBase64(nonce), publicKey: toBase64(sender.publicKey), ...proof };
  await api.call('ApproveDeviceLink', { path: { linkId: scanned.linkId }, body }, opts);
}

/** On the new device, once approved: signs in and opens the relayed box (NexChatClient.claimLink()). */
export async function claimLink(api: ApiClient, directory: KeyDirectory, request: LinkRequest, opts: CallOptions = {}): Promise<LinkedDevice> {
  const res = await api.call('ClaimDeviceLink', { path: { linkId: request.linkId }, body: { linkSecret: request.linkSecret } }, opts);
  let opened: Uint8Array | null;
  try {
    opened = nacl.box.open(fromBase64(res.ciphertext), fromBase64(res.nonce), fromBase64(res.publicKey), request.keyPair.secretKey);
  } catch {
    opened = null;
  }
  if (!opened) throw new ApiError(0, 'link_box_invalid', 'The relayed keys do not open with this device’s key');
  const secrets = JSON.parse(fromUtf8(opened)) as { identitySecretKey: string; boxSecretKey: string };
  const keys: DeviceKeys = {
    identity: nacl.sign.keyPair.fromSecretKey(fromBase64(secrets.identitySecretKey)),
    box: nacl.box.keyPair.fromSecretKey(fromBase64(secrets.boxSecretKey)),
  };
  api.acceptTokens(res);
  // The box proves only that someone with the link's public key sealed it. The keys it holds must be
  // the account's published ones (signed by its identity key), or a relay that swapped the box could
  // have handed this device keys of its own choosing: then refuse them and sign this device out.
  const published = await directory.fetch(res.user.userId, opts).catch(() => undefined);
  if (!published || published.identityKey !== toBase64(keys.identity.publicKey) || published.publicKey !== toBase64(keys.box.publicKey)) {
    await api.call('Logout', {}, opts).catch(() => undefined);
    api.setTokens(null);
    throw new ApiError(0, 'link_keys_mismatch', 'The relayed keys are not the account’s published keys; this device was signed out');
  }
  return { user: res.user, deviceId: res.deviceId, keys };
}
