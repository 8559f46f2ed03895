// GET /api/attachments/{attachmentId}
import * as z from 'zod/mini';
import { attachmentId } from '../common.ts';
import { httpContract } from '../route.ts';
import { transfer } from './schemas.ts';

export const getAttachment = httpContract({
  id: 'GetAttachment',
  method: 'GET',
  path: '/api/attachments/{attachmentId}',
  access: 'user',
  summary:
    'A presigned GET (valid at most 5 minutes) of an encrypted attachment, for the uploader and for whoever can see a message that shared it ' +
    '(the same rules as history: blocks, group membership and join time, retention). 404 for everyone else, as for an unknown id',
  input: { path: z.strictObject({ attachmentId }) },
  output: { 200: z.object({ attachmentId: z.string(), size: z.int(), download: transfer, expiresIn: z.int(), expiresAt: z.string() }) },
});
