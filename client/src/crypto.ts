// End-to-end encryption with tweetnacl: device keys, the signed directory entry, 1:1 messages (box)
// and group messages (secretbox under a fresh key, the key boxed to each member). Private keys stay
// with the caller; nothing here sends them anywhere.
import nacl from 'tweetnacl';
import { fromBase64, fromUtf8, toBase64, utf8 } from './bytes.ts';

export interface DeviceKeys {
  identity: nacl.SignKeyPair;
  box: nacl.BoxKeyPair;
}

/** A directory entry as GET /api/users/{userId}/public-key serves it. */
export interface PublishedKey {
  userId: string;
  identityKey: string;
  publicKey: string;
  signature: string;
  version: number;
  fingerprint: string;
}

export interface WrappedKey {
  wrappedKey: string;
  nonce: string;
  keyVersion: number;
}

export function generateDeviceKeys(): DeviceKeys {
  return { identity: nacl.sign.keyPair(), box: nacl.box.keyPair() };
}

/** What PUT /api/users/public-key takes: public halves only, the box key signed by the identity key. */
export function publicKeyUpload(keys: DeviceKeys): { identityKey: string; publicKey: string; signature: string } {
  return {
    identityKey: toBase64(keys.identity.publicKey),
    publicKey: toBase64(keys.box.publicKey),
    signature: toBase64(nacl.sign.detached(keys.box.publicKey, keys.identity.secretKey)),
  };
}

/** Bytes of base64 text, or undefined when it is not base64 of exactly `length` bytes. */
function decodeKey(text: string, length: number): Uint8Array | undefined {
  try {
    const bytes = fromBase64(text);
    return bytes.length === length ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** Checks a directory entry before trusting it: the identity key must have signed the box key. */
export function verifyPublishedKey(entry: { identityKey: string; publicKey: string; signature: string }): boolean {
  const identity = decodeKey(entry.identityKey, nacl.sign.publicKeyLength);
  const box = decodeKey(entry.publicKey, nacl.box.publicKeyLength);
  const signature = decodeKey(entry.signature, nacl.sign.signatureLength);
  return !!identity && !!box && !!signature && nacl.sign.detached.verify(box, signature, identity);
}

/** `plaintext` boxed from `sender` to the recipient's box key (base64), with a fresh nonce. */
export function seal(plaintext: string, recipientBoxKey: string, sender: DeviceKeys): { ciphertext: string; nonce: string } {
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  const box = nacl.box(utf8(plaintext), nonce, fromBase64(recipientBoxKey), sender.box.secretKey);
  return { ciphertext: toBase64(box), nonce: toBase64(nonce) };
}

/** Opens a box from the sender's box key (base64); null when it does not open. */
export function open(message: { ciphertext: string; nonce: string }, senderBoxKey: string, recipient: DeviceKeys): string | null {
  try {
    const plain = nacl.box.open(fromBase64(message.ciphertext), fromBase64(message.nonce), fromBase64(senderBoxKey), recipient.box.secretKey);
    return plain ? fromUtf8(plain) : null;
  } catch {
    return null; // malformed base64 or a wrong-sized nonce/key: it does not open
  }
}

/** `text` in a secretbox under a fresh random 32-byte key; the caller wraps the key, then wipes it. */
export function sealGroupMessage(text: string): { ciphertext: string; nonce: string; messageKey: Uint8Array } {
  const messageKey = nacl.randomBytes(nacl.secretbox.keyLength);
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  return { ciphertext: toBase64(nacl.secretbox(utf8(text), nonce, messageKey)), nonce: toBase64(nonce), messageKey };
}

/** The message key boxed from the sender's box key to one member's published box key. */
export function wrapMessageKey(messageKey: Uint8Array, memberBoxKey: string, sender: DeviceKeys): { wrappedKey: string; nonce: string } {
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  return { wrappedKey: toBase64(nacl.box(messageKey, nonce, fromBase64(memberBoxKey), sender.box.secretKey)), nonce: toBase64(nonce) };
}

/** Opens a member's copy: its wrapped key with the sender's box key, then the secretbox. Null if either fails. */
export function openGroupMessage(
  message: { ciphertext: string; nonce: string; key?: { wrappedKey: string; nonce: string } | undefined },
  senderBoxKey: string,
  me: DeviceKeys,
): string | null {
  if (!message.key) return null;
  try {
    const messageKey = nacl.box.open(fromBase64(message.key.wrappedKey), fromBase64(message.key.nonce), fromBase64(senderBoxKey), me.box.secretKey);
    if (!messageKey || messageKey.length !== nacl.secretbox.keyLength) return null;
    const plain = nacl.secretbox.open(fromBase64(message.ciphertext), fromBase64(message.nonce), messageKey);
    return plain ? fromUtf8(plain) : null;
  } catch {
    return null;
  }
}
