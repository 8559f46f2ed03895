// POST /api/attachments
import * as z from 'zod/mini';
import { conversationId } from '../common.ts';
import { httpContract } from '../route.ts';
import { transfer } from './schemas.ts';

export const createAttachment = httpContract({
  id: 'CreateAttachment',
  method: 'POST',
  path: '/api/attachments',
  access: 'user',
  userLimit: 'uploadUser',
  summary:
    'Starts an upload of an encrypted file into a conversation the caller is a member of: returns an attachment id and a presigned PUT ' +
    '(valid at most 5 minutes) that accepts exactly `size` bytes of application/octet-stream. 413 attachment_too_large over the per-file ' +
    'limit; 429 upload_quota_exceeded over the per-user daily quota (retryAfterSeconds in details)',
  input: {
    body: z.strictObject({
      /** Bytes of ciphertext to upload (the encrypted file, not the plaintext). */
      size: z.int().check(z.positive({ message: 'At least 1 byte' }), z.maximum(5 * 1024 ** 3, { message: 'At most 5 GiB' })),
      conversationId,
    }),
  },
  output: { 201: z.object({ attachmentId: z.string(), upload: transfer, expiresIn: z.int(), expiresAt: z.string() }) },
});
