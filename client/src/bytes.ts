// Bytes without Node: base64 and UTF-8 on Uint8Array (btoa/atob, TextEncoder), SHA-256 through
// WebCrypto (or @noble/hashes where there is none). Everything here runs unchanged in browsers, React
// Native (with the usual polyfills) and Node ≥ 20.
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import nacl from 'tweetnacl';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a string. */
export const utf8 = (text: string): Uint8Array => encoder.encode(text);

/** A string from UTF-8 bytes (malformed sequences become U+FFFD). */
export const fromUtf8 = (bytes: Uint8Array): string => decoder.decode(bytes);

/** Standard base64 (with padding) of `bytes`, in 32 KiB steps so large files do not overflow the call stack. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Bytes from standard base64; throws (atob's DOMException) on text that is not base64. */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Bytes from base64url (no padding needed), as JWT segments and QR payloads carry them. */
export function fromBase64Url(text: string): Uint8Array {
  const standard = text.replaceAll('-', '+').replaceAll('_', '/');
  return fromBase64(standard.padEnd(standard.length + ((4 - (standard.length % 4)) % 4), '='));
}

/** base64url without padding. */
export const toBase64Url = (bytes: Uint8Array): string => toBase64(bytes).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');

/** The bytes of `parts`, one after the other. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * SHA-256 through WebCrypto where it exists (browsers, Node ≥ 20: native and fast), else through
 * @noble/hashes (React Native has no crypto.subtle).
 */
export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle) return new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return nobleSha256(bytes);
}

/** Lower-case hex of `bytes`. */
export const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** Lower-case hex SHA-256. */
export const sha256Hex = async (bytes: Uint8Array): Promise<string> => toHex(await sha256(bytes));

/**
 * A random UUID (v4): every clientMessageId the SDK makes. WebCrypto's where it exists; else from
 * tweetnacl's random bytes (React Native, with a getRandomValues polyfill as tweetnacl needs anyway).
 */
export function randomId(): string {
  if (typeof globalThis.crypto?.randomUUID === 'function') return globalThis.crypto.randomUUID();
  const b = nacl.randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = toHex(b);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
