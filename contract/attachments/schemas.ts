// Encrypted attachments as clients see them: an opaque blob in object storage, reached through
// short-lived presigned URLs. The file's key, digest, name and type travel only inside a message's
// ciphertext; the server knows a size, an owner and where the id was shared.
import * as z from 'zod/mini';

/** How to send or fetch the bytes: an HTTP request to a presigned URL, these headers exactly. */
export const transfer = z.object({
  url: z.string(),
  method: z.enum(['PUT', 'GET']),
  /** Headers the signature covers (Content-Length, Content-Type): send them as given. */
  headers: z.record(z.string(), z.string()),
});

export const attachmentStatuses = ['pending', 'uploaded', 'shared'] as const;
export type AttachmentStatus = (typeof attachmentStatuses)[number];

export const attachmentView = z.object({
  attachmentId: z.string(),
  conversationId: z.string(),
  /** Bytes of ciphertext (what the client declared and uploaded). */
  size: z.int(),
  status: z.enum(attachmentStatuses),
  createdAt: z.string(),
});
