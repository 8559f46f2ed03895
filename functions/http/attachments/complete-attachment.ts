// POST /api/attachments/{attachmentId}/complete: the owner's upload is stored at its declared size.
import { completeAttachment as contract } from '#contract/attachments/complete-attachment.ts';
import { completeUpload } from '#core/attachments.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { attachmentDeps } from '#wiring/attachments.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, path }) => ({
  statusCode: 200,
  body: await completeUpload(attachmentDeps(), auth.userId, path.attachmentId),
}));
