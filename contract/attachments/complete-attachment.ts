// POST /api/attachments/{attachmentId}/complete
import * as z from 'zod/mini';
import { attachmentId } from '../common.ts';
import { httpContract } from '../route.ts';
import { attachmentView } from './schemas.ts';

export const completeAttachment = httpContract({
  id: 'CompleteAttachment',
  method: 'POST',
  path: '/api/attachments/{attachmentId}/complete',
  access: 'user',
  summary:
    "The owner says its upload finished: the server checks the stored object's size and marks it uploaded, so a message may share it. " +
    '409 upload_incomplete while no object of the declared size is stored; 404 for anyone but the owner; idempotent',
  input: { path: z.strictObject({ attachmentId }) },
  output: { 200: attachmentView },
});
