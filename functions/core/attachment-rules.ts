// What a send checks of the attachments its message shares, apart from attachments.ts so that the
// send paths bundle only this. An upload is shareable by its owner, in the conversation it was
// uploaded for, once finished, and for SHARE_WINDOW_SECONDS after it began, shared already or not (the
// sweeper deletes never-shared uploads well inside 24 hours, and S3 a blob retention + 2 days after it
// was written: the window keeps a share from racing the one and outliving the other).
import { BadRequest, Conflict, NotFound } from './errors.ts';
import type { AttachmentRecord } from './ports.ts';

export const SHARE_WINDOW_SECONDS = 12 * 3600;
/** Messages one attachment may be shared by: a download reads its shares, so their number is bounded (and the read too). */
export const MAX_SHARES = 20;
/** The object key of an attachment's blob: under its owner, so an account's blobs share a prefix. */
export const blobKey = (ownerId: string, attachmentId: string) => `attachments/${ownerId}/${attachmentId}`;

/**
 * The records of `ids` (in order) when every one is the sender's own finished upload for this
 * conversation; otherwise the first problem, thrown: 404 attachment_not_found (not the sender's, another
 * conversation's, expired or unknown: a sender cannot tell them apart), 409 attachment_not_uploaded,
 * 409 attachment_shared_too_often.
 */
export function shareable(
  ids: readonly string[],
  records: ReadonlyMap<string, AttachmentRecord>,
  senderId: string,
  conversationId: string,
  nowMs: number,
): AttachmentRecord[] {
  if (new Set(ids).size !== ids.length) throw new BadRequest('Name each attachment once', 'duplicate_attachment');
  return ids.map((id) => {
    const r = records.get(id);
    // the window holds for shared uploads too: S3's lifecycle deletes a blob a fixed time after it was
    // written (retention + 2 days), so a message sharing it later could outlive its blob
    const live = r !== undefined && r.expiresAt * 1000 > nowMs && Date.parse(r.createdAt) + SHARE_WINDOW_SECONDS * 1000 > nowMs;
    if (!live || r.ownerId !== senderId || r.conversationId !== conversationId) {
      throw new NotFound(`No attachment ${id} of yours in this conversation (upload it again)`, 'attachment_not_found');
    }
    if (r.status === 'pending') throw new Conflict(`Attachment ${id} is not uploaded yet: finish the upload first`, 'attachment_not_uploaded');
    if ((r.shares ?? 0) >= MAX_SHARES)
      throw new Conflict(`Attachment ${id} was shared ${MAX_SHARES} times already: upload it again`, 'attachment_shared_too_often');
    return r;
  });
}
