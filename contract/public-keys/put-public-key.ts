// PUT /api/users/public-key
import * as z from 'zod/mini';
import { base64 } from '../common.ts';
import { httpContract } from '../route.ts';
import { publicKeySet } from './schemas.ts';

/** Ed25519 identity key, X25519 box key, and the identity key's signature over the box key. */
export const keyUpload = z.strictObject({ identityKey: base64(64), publicKey: base64(64), signature: base64(128) });
export type KeyUpload = z.infer<typeof keyUpload>;

export const putPublicKey = httpContract({
  id: 'PutPublicKey',
  method: 'PUT',
  path: '/api/users/public-key',
  access: 'user',
  userLimit: 'keysUser',
  summary: 'Publishes the identity key, box key and signature; verifies, versions, keeps history, tells partners',
  input: { body: keyUpload },
  output: { 200: publicKeySet },
});
