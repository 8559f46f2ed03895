// Examples of the attachment routes for the API documents (contract/examples.ts says why they live apart).
import { at, errorExample, httpExamples, ids } from '../examples.ts';
import { completeAttachment } from './complete-attachment.ts';
import { createAttachment } from './create-attachment.ts';
import { getAttachment } from './get-attachment.ts';

const attachment = { attachmentId: ids.attachment };
const blobUrl = (method: 'PUT' | 'GET') =>
  `https://nexchat-prod-attachments.s3.eu-west-1.amazonaws.com/attachments/${ids.ada}/${ids.attachment}` +
  `?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE%2F20260314%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20260314T091500Z` +
  `&X-Amz-Expires=300&X-Amz-SignedHeaders=${method === 'PUT' ? 'content-length%3Bcontent-type%3Bhost' : 'host'}&X-Amz-Signature=${'0f'.repeat(32)}`;
const notFound = errorExample(
  404,
  'Unknown, not yours, or not shared with you in a message you can see: the same answer',
  'attachment_not_found',
  'No such attachment',
);

export const attachmentsExamples = [
  httpExamples(createAttachment, {
    bodies: { photo: { size: 482_113, conversationId: ids.direct } },
    responses: {
      201: {
        ...attachment,
        upload: { url: blobUrl('PUT'), method: 'PUT', headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': '482113' } },
        expiresIn: 300,
        expiresAt: at(20),
      },
    },
    errors: {
      tooLarge: errorExample(413, 'Over the per-file limit', 'attachment_too_large', 'An attachment may have at most 104857600 bytes', {
        maxBytes: 104_857_600,
      }),
      notMember: errorExample(404, 'Not a member of the conversation', 'conversation_not_found', 'No such conversation'),
    },
  }),
  httpExamples(completeAttachment, {
    path: attachment,
    responses: { 200: { ...attachment, conversationId: ids.direct, size: 482_113, status: 'uploaded', createdAt: at(15) } },
    errors: {
      incomplete: errorExample(
        409,
        'The bytes have not arrived',
        'upload_incomplete',
        'The upload has not arrived yet: PUT the bytes to the upload URL, then complete',
      ),
      notFound,
    },
  }),
  httpExamples(getAttachment, {
    path: attachment,
    responses: { 200: { ...attachment, size: 482_113, download: { url: blobUrl('GET'), method: 'GET', headers: {} }, expiresIn: 300, expiresAt: at(25) } },
    errors: { notFound },
  }),
];
