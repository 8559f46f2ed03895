// POST /api/devices/links/{linkId}/approve
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';
import { oneProof, proofFields } from '../users/schemas.ts';
import { boxNonce, boxPublicKey, linkCiphertext, linkId } from './schemas.ts';

export const approveDeviceLink = httpContract({
  id: 'ApproveDeviceLink',
  method: 'POST',
  path: '/api/devices/links/{linkId}/approve',
  access: 'user',
  summary:
    "A signed-in device approves a link with a fresh proof (password, or a \"reauth\" code): the account's secret keys boxed to the new device's key, with the sender's ephemeral public key",
  input: {
    path: z.strictObject({ linkId }),
    body: z.strictObject({ ciphertext: linkCiphertext, nonce: boxNonce, publicKey: boxPublicKey, ...proofFields }).check(oneProof),
  },
  output: { 204: null },
});
