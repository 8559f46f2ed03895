// Shapes shared by the device routes: device and link ids, device names, the X25519 public keys and
// the relayed box of a device link (docs/devices.md). The server never opens the box.
import * as z from 'zod/mini';
import { base64 } from '../common.ts';
import { tokens } from '../auth/schemas.ts';

export const deviceId = z.uuid({ message: 'Not a device id' });
/** `dl_` and 32 hex characters (128 random bits): names a link, grants nothing without its secret. */
export const linkId = z.string().check(z.regex(/^dl_[0-9a-f]{32}$/, { message: 'Not a link id' }));
/** 32 random bytes, base64url without padding: the new device's proof at claim (the server keeps only its SHA-256). */
export const linkSecret = z.string().check(z.regex(/^[A-Za-z0-9_-]{43}$/, { message: 'Not a link secret' }));

export { deviceName } from '../auth/schemas.ts';

/** A 32-byte X25519 (tweetnacl box) public key in standard base64. */
export const boxPublicKey = z.string().check(z.regex(/^[A-Za-z0-9+/]{43}=$/, { message: 'A 32-byte key in standard base64' }));
/** A tweetnacl box nonce: 24 bytes in standard base64. */
export const boxNonce = z.string().check(z.regex(/^[A-Za-z0-9+/]{32}$/, { message: 'A 24-byte nonce in standard base64' }));
/** The account's secret keys, boxed to the new device's key: a few hundred bytes; 8 KB leaves room for more key material. */
export const linkCiphertext = base64(8192).check(z.minLength(24, { message: 'Too short for a box' }));

export const device = z.object({
  deviceId: z.string(),
  name: z.string(),
  createdAt: z.string(),
  /** The session's last token refresh (or its sign-in): refreshed at least every 15 minutes while in use. */
  lastSeenAt: z.string(),
  /** The device this request comes from. */
  current: z.boolean(),
});
export type Device = z.infer<typeof device>;

/** What a claim returns: a session of the new device, and the box the approver relayed. */
export const claimedLink = z.extend(tokens, { deviceId: z.string(), ciphertext: z.string(), nonce: z.string(), publicKey: z.string() });
export type ClaimedLink = z.infer<typeof claimedLink>;
