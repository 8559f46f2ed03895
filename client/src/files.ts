// Encrypted attachments: the file in a secretbox under its own random key, that key only inside the
// (encrypted) message; presigned transfers straight to object storage, never with the API's bearer
// token. The server and the bucket only ever see ciphertext.
import nacl from 'tweetnacl';
import { fromBase64, sha256Hex, toBase64 } from './bytes.ts';
import { ApiError, AttachmentTampered } from './errors.ts';
import type { ApiClient, CallOptions } from './http.ts';

/**
 * What a recipient needs to fetch-and-open one file, carried only inside an encrypted message: the
 * server never sees it. `key` (32 bytes) and `nonce` (24 bytes) are standard base64; `sha256` is the
 * lower-case hex SHA-256 of the encrypted blob (what is stored and downloaded); `size` is the
 * plaintext's length in bytes (the blob is `size + 16`, secretbox's tag).
 */
export interface FileKey {
  key: string;
  nonce: string;
  sha256: string;
  size: number;
  name?: string;
  type?: string;
}

/** A finished upload: `attachmentId` goes in the send's `attachmentIds`, `file` inside the message content (composeMessage()). */
export interface UploadedAttachment {
  attachmentId: string;
  file: FileKey;
}

/** Encrypts a file for upload: a fresh random key and nonce per file (tweetnacl secretbox), the digest of the result. */
export async function encryptFile(bytes: Uint8Array, info: { name?: string; type?: string } = {}): Promise<{ blob: Uint8Array; file: FileKey }> {
  const key = nacl.randomBytes(nacl.secretbox.keyLength);
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  const blob = nacl.secretbox(bytes, nonce, key);
  const file: FileKey = { key: toBase64(key), nonce: toBase64(nonce), sha256: await sha256Hex(blob), size: bytes.byteLength };
  key.fill(0);
  if (info.name !== undefined) file.name = info.name;
  if (info.type !== undefined) file.type = info.type;
  return { blob, file };
}

/** The key and nonce of a FileKey as bytes; a TypeError for anything that is not one (a malformed message). */
export function fileSecrets(file: FileKey): { key: Uint8Array; nonce: Uint8Array } {
  const bytes = (text: unknown, length: number) => {
    try {
      const b = typeof text === 'string' ? fromBase64(text) : undefined;
      return b?.length === length ? b : undefined;
    } catch {
      return undefined;
    }
  };
  const key = bytes(file.key, nacl.secretbox.keyLength);
  const nonce = bytes(file.nonce, nacl.secretbox.nonceLength);
  if (!key || !nonce || typeof file.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(file.sha256) || !Number.isSafeInteger(file.size) || file.size < 0) {
    throw new TypeError('Not a file key: key (32 bytes), nonce (24 bytes) in base64, sha256 in hex and a size are required');
  }
  return { key, nonce };
}

/**
 * Opens a downloaded blob. The digest is checked first (a swapped or altered blob is refused before
 * any decryption), then secretbox's own authentication, then the plaintext size. Throws
 * `AttachmentTampered` (with `reason`) on any of them, a TypeError on a malformed `file`.
 */
export async function decryptFile(blob: Uint8Array, file: FileKey): Promise<Uint8Array> {
  const { key, nonce } = fileSecrets(file);
  if ((await sha256Hex(blob)) !== file.sha256.toLowerCase()) throw new AttachmentTampered('digest');
  const plain = nacl.secretbox.open(blob, nonce, key);
  key.fill(0);
  if (!plain) throw new AttachmentTampered('decrypt');
  if (plain.byteLength !== file.size) throw new AttachmentTampered('size');
  return plain;
}

/** What parseMessage() finds in a decrypted message: its text and the files it carries keys for. */
export interface MessageContent {
  text: string;
  files: UploadedAttachment[];
}

const CONTENT_MARKER = 'nexchat.message';

/**
 * The plaintext to seal for a message (seal(), sendDirectMessage(), sendGroupMessage()). Without files
 * it is `text` itself, as messages always were, so older clients show it unchanged; with files it is
 * JSON `{"nexchat":"nexchat.message","v":1,"text":…,"files":[{attachmentId,key,nonce,sha256,size,name?,type?}]}`.
 * Send the same attachments' ids in `attachmentIds`, or recipients cannot download them.
 */
export function composeMessage(text: string, files: UploadedAttachment[] = []): string {
  if (files.length === 0) return text;
  return JSON.stringify({ nexchat: CONTENT_MARKER, v: 1, text, files: files.map((f) => ({ attachmentId: f.attachmentId, ...f.file })) });
}

/**
 * The inverse of composeMessage() on an opened message: JSON with the marker gives its text and files
 * (entries that are not a well-formed file key are left out); anything else is plain text, no files.
 */
export function parseMessage(plaintext: string): MessageContent {
  let value: unknown;
  try {
    value = plaintext.startsWith('{') ? JSON.parse(plaintext) : undefined;
  } catch {
    value = undefined;
  }
  const v = value as { nexchat?: unknown; v?: unknown; text?: unknown; files?: unknown } | undefined;
  if (!v || v.nexchat !== CONTENT_MARKER || v.v !== 1 || typeof v.text !== 'string' || !Array.isArray(v.files)) return { text: plaintext, files: [] };
  const files: UploadedAttachment[] = [];
  for (const entry of v.files as Record<string, unknown>[]) {
    if (!entry || typeof entry !== 'object' || typeof entry.attachmentId !== 'string') continue;
    const file: FileKey = { key: entry.key as string, nonce: entry.nonce as string, sha256: entry.sha256 as string, size: entry.size as number };
    if (typeof entry.name === 'string') file.name = entry.name;
    if (typeof entry.type === 'string') file.type = entry.type;
    try {
      fileSecrets(file);
    } catch {
      continue;
    }
    files.push({ attachmentId: entry.attachmentId, file });
  }
  return { text: v.text, files };
}

// ---- presigned transfers: straight to object storage, never with the API's bearer token ---------------

/** A presigned request as the attachment routes describe it (contract/attachments/schemas.ts `transfer`). */
export interface Transfer {
  url: string;
  method: 'PUT' | 'GET';
  headers: Record<string, string>;
}

export interface TransferOptions {
  /** Bytes moved so far of `total` (the encrypted size): never decreasing; `sent === total` once, at the end. */
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
}

export interface UploadOptions extends TransferOptions {
  /** File name and MIME type, kept inside the FileKey (encrypted), never sent to the server in the clear. */
  name?: string;
  type?: string;
}

/** Chunk size for streamed uploads in Node: progress moves in steps of this much. */
export const UPLOAD_CHUNK_BYTES = 64 * 1024;

/** Only what the SDK touches of XMLHttpRequest (the SDK compiles without the DOM library). */
interface Xhr {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: Uint8Array): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  upload: { onprogress: ((e: { loaded: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

/** Progress that only moves forward, never repeats, and reaches `total` only when the storage said yes. */
function progressReporter(total: number, onProgress?: (sent: number, total: number) => void) {
  let last = -1;
  return (sent: number, final = false) => {
    const n = final ? total : Math.min(sent, total - 1);
    if (onProgress && n > last) {
      last = n;
      onProgress(n, total);
    }
  };
}

/** The storage's refusal as an ApiError: S3 answers XML, whose <Code> becomes `details.storageCode`. */
function storageError(status: number, body: string, what: 'upload' | 'download'): ApiError {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? 'unknown';
  return new ApiError(status, `${what}_refused`, `The storage refused the ${what} (${status} ${code})`, { storageCode: code });
}

function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/**
 * PUTs `blob` to a presigned URL with exactly its headers. With XMLHttpRequest (browsers) progress
 * comes from `upload.onprogress`; fetch has no upload progress there, and a streamed fetch body would
 * need HTTP/2 and chunked encoding, which a signed Content-Length refuses. Without it (Node), fetch
 * gets a pull-based ReadableStream and the Content-Length header: undici then sends that length, not
 * chunked (tests/attachments-client.test.ts checks it against the local S3), and each pull reports the
 * bytes undici has taken so far.
 */
export async function putPresigned(doFetch: typeof fetch, upload: Transfer, blob: Uint8Array, opts: TransferOptions): Promise<void> {
  const report = progressReporter(blob.byteLength, opts.onProgress);
  opts.signal?.throwIfAborted();
  report(0);
  const XhrClass = (globalThis as { XMLHttpRequest?: new () => Xhr }).XMLHttpRequest;
  if (XhrClass) {
    await new Promise<void>((resolve, reject) => {
      const xhr = new XhrClass();
      const onAbort = () => xhr.abort();
      const settle = (fn: () => void) => {
        opts.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      xhr.open(upload.method, upload.url);
      // Content-Length is a forbidden header for XHR: the browser sets it from the body, the same number
      for (const [name, value] of Object.entries(upload.headers)) if (name.toLowerCase() !== 'content-length') xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (e) => report(e.loaded);
      xhr.onload = () => settle(() => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(storageError(xhr.status, xhr.responseText, 'upload'))));
      xhr.onerror = () => settle(() => reject(new ApiError(0, 'network_error', 'The upload did not reach the storage')));
      xhr.onabort = () => settle(() => reject(abortReason(opts.signal)));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      xhr.send(blob);
    });
  } else {
    let offset = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        // called when undici wants the next chunk, i.e. once it has taken every byte before `offset`
        pull(controller) {
          report(offset);
          if (offset >= blob.byteLength) return controller.close();
          const end = Math.min(offset + UPLOAD_CHUNK_BYTES, blob.byteLength);
          controller.enqueue(blob.subarray(offset, end));
          offset = end;
        },
      },
      { highWaterMark: 0 },
    );
    const headers = { ...upload.headers };
    // without a Content-Length undici streams chunked, which a signature over the length refuses
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['Content-Length'] = String(blob.byteLength);
    const init = { method: upload.method, headers, body, duplex: 'half', ...(opts.signal ? { signal: opts.signal } : {}) } as RequestInit;
    const res = await doFetch(upload.url, init);
    const text = await res.text();
    if (!res.ok) throw storageError(res.status, text, 'upload');
  }
  report(blob.byteLength, true);
}

/** GETs a presigned URL, reading the body as it streams (progress per chunk) and at most `size` bytes of it. */
export async function getPresigned(doFetch: typeof fetch, download: Transfer, size: number, opts: TransferOptions): Promise<Uint8Array> {
  const report = progressReporter(size, opts.onProgress);
  opts.signal?.throwIfAborted();
  const res = await doFetch(download.url, { method: download.method, headers: download.headers, ...(opts.signal ? { signal: opts.signal } : {}) });
  if (!res.ok) throw storageError(res.status, await res.text(), 'download');
  const blob = new Uint8Array(size);
  let received = 0;
  report(0);
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (received + value.byteLength > size) {
      await reader.cancel();
      throw new AttachmentTampered('size');
    }
    blob.set(value, received);
    received += value.byteLength;
    report(received);
  }
  if (received !== size) throw new AttachmentTampered('size');
  report(size, true);
  return blob;
}

/** NexChatClient.uploadAttachment(): encrypt, start, PUT to the presigned URL, complete. */
export async function uploadAttachment(api: ApiClient, conversationId: string, bytes: Uint8Array, opts: UploadOptions = {}): Promise<UploadedAttachment> {
  opts.signal?.throwIfAborted();
  const info: { name?: string; type?: string } = {};
  if (opts.name !== undefined) info.name = opts.name;
  if (opts.type !== undefined) info.type = opts.type;
  const { blob, file } = await encryptFile(bytes, info);
  opts.signal?.throwIfAborted();
  const calls: CallOptions = opts.signal ? { signal: opts.signal } : {};
  const started = await api.call('CreateAttachment', { body: { size: blob.byteLength, conversationId } }, calls);
  await putPresigned(api.doFetch, started.upload, blob, opts);
  opts.signal?.throwIfAborted();
  await api.call('CompleteAttachment', { path: { attachmentId: started.attachmentId } }, calls);
  return { attachmentId: started.attachmentId, file };
}

/** NexChatClient.downloadAttachment(): the presigned GET, then decryptFile() (digest first). */
export async function downloadAttachment(api: ApiClient, attachmentId: string, file: FileKey, opts: TransferOptions = {}): Promise<Uint8Array> {
  fileSecrets(file);
  opts.signal?.throwIfAborted();
  const link = await api.call('GetAttachment', { path: { attachmentId } }, opts.signal ? { signal: opts.signal } : {});
  if (link.size !== file.size + nacl.secretbox.overheadLength) throw new AttachmentTampered('size');
  return decryptFile(await getPresigned(api.doFetch, link.download, link.size, opts), file);
}
