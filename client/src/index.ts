// @nexchat/client: the NexChat SDK for apps (browsers, Node ≥ 20, React Native). Everything public is
// re-exported from here; the modules beside it are the implementation.
export { NexChatClient } from './client.ts';
export {
  ApiClient,
  DEFAULT_TIMEOUT_MS,
  fillPath,
  type CallOptions,
  type ClientOptions,
  type RouteInput,
  type RouteOutput,
  type Tokens,
  type WebSocketConstructor,
} from './http.ts';
export { routeTable, type RouteContracts, type RouteId } from './routes.ts';
export {
  API_ERROR_CODES,
  ApiError,
  AttachmentTampered,
  KeyInvalid,
  LinkMismatch,
  NetworkError,
  RateLimited,
  SDK_ERROR_CODES,
  SessionExpired,
  TimeoutError,
  type ApiErrorCode,
  type SdkErrorCode,
  type ServerErrorCode,
} from './errors.ts';
export {
  generateDeviceKeys,
  open,
  openGroupMessage,
  publicKeyUpload,
  seal,
  sealGroupMessage,
  verifyPublishedKey,
  wrapMessageKey,
  type DeviceKeys,
  type PublishedKey,
  type WrappedKey,
} from './crypto.ts';
export {
  composeMessage,
  decryptFile,
  encryptFile,
  parseMessage,
  UPLOAD_CHUNK_BYTES,
  type FileKey,
  type MessageContent,
  type Transfer,
  type TransferOptions,
  type UploadedAttachment,
  type UploadOptions,
} from './files.ts';
export { KeyDirectory } from './keys.ts';
export { fingerprint, safetyNumber, FINGERPRINT_ITERATIONS, type IdentityChange, type KeyStore, type TrustedKey } from './trust.ts';
export { MemoryKeyStore } from './stores/memory.ts';
export { IndexedDbKeyStore, type IdbFactory } from './stores/indexeddb.ts';
export { linkQrPayload, linkVerificationCode, parseLinkQr, type DeviceInfo, type LinkedDevice, type LinkRequest, type Proof } from './linking.ts';
export { type GroupSendOptions } from './groups.ts';
export { type DirectSendOptions } from './direct.ts';
export {
  DEVICE_REVOKED_CLOSE_CODE,
  KEEP_ALIVE_MS,
  PING_FRAME,
  RealtimeSession,
  WS_IDLE_TIMEOUT_MS,
  type GroupAck,
  type KeepAliveTimers,
  type IncomingMessage,
  type OutgoingMessage,
  type ReceiptEvent,
  type RealtimeEventName,
  type RealtimeEvents,
  type RealtimeOptions,
  type SessionTimers,
} from './realtime.ts';
export { closeCodes, type CloseReason } from '../../contract/realtime/close-codes.ts';
export { fromBase64, fromUtf8, sha256Hex, toBase64, utf8 } from './bytes.ts';
