// GET /api/attachments/{attachmentId}: a presigned GET for whoever may see a message that shared it.
import { getAttachment as contract } from '#contract/attachments/get-attachment.ts';
import { downloadLink } from '#core/attachments.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { attachmentDeps } from '#wiring/attachments.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, path }) => ({
  statusCode: 200,
  body: await downloadLink(attachmentDeps(), auth.userId, path.attachmentId),
}));
