// POST /api/attachments: a pending upload and its presigned PUT (exact size, octet-stream, ≤ 5 minutes).
import { createAttachment as contract } from '#contract/attachments/create-attachment.ts';
import { startUpload } from '#core/attachments.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { attachmentDeps } from '#wiring/attachments.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ auth, body }) => ({
  statusCode: 201,
  body: await startUpload(attachmentDeps(), auth.userId, body),
}));
