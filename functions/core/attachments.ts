// Encrypted attachments: the client encrypts a file, uploads the ciphertext straight to object storage
// through a presigned PUT that admits exactly the declared size, completes it, and shares its id in a
// message whose ciphertext carries the file's key and digest. The server never sees a byte of the
// file: it keeps a size, an owner and where the id was shared, and hands out presigned GETs to whoever
// can see a message that shared it. Never-shared uploads and deleted accounts' blobs are swept.
import { randomBytes } from 'node:crypto';
import { blobKey } from './attachment-rules.ts';
import type { AttachmentConfig, Config } from './config.ts';
import { Conflict, DomainError, NotFound } from './errors.ts';
import type { AttachmentRecord, AttachmentsPort, BlobStorePort, Clock } from './ports.ts';

/** A never-shared upload's record lives this long (DynamoDB TTL); the sweeper deletes it and its blob sooner. */
export const UNSHARED_TTL_SECONDS = 24 * 3600;
/** The sweeper deletes never-shared uploads begun at least this long ago: with its 15-minute schedule, inside 24 hours. */
export const UNSHARED_DELETE_AFTER_SECONDS = 20 * 3600;
/** A deleted account's prefix is purged by every sweep this long after the deletion (uploads in flight land meanwhile). */
export const PURGE_REPEAT_SECONDS = 24 * 3600;
/** How far back the sweeper looks for hours it may have missed (TTL removes records older than this). */
const SWEEP_LOOKBACK_HOURS = 30;

export interface AttachmentDeps {
  config: Pick<Config, 'messages'>;
  settings: AttachmentConfig;
  clock: Clock;
  attachments: AttachmentsPort;
  blobs: BlobStorePort;
}

const notFound = () => new NotFound('No such attachment', 'attachment_not_found');
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Starts an upload into a conversation the caller is a member of: the per-file limit (413), then the
 * daily byte quota (429, retry at the next UTC midnight), then a pending record and a presigned PUT.
 */
export async function startUpload(deps: AttachmentDeps, userId: string, input: { size: number; conversationId: string }) {
  const { settings, clock } = deps;
  if (input.size > settings.maxFileBytes) {
    throw new DomainError(413, 'attachment_too_large', `An attachment may have at most ${settings.maxFileBytes} bytes`, { maxBytes: settings.maxFileBytes });
  }
  if (!(await deps.attachments.isMember(input.conversationId, userId))) throw new NotFound('No such conversation', 'conversation_not_found');
  const now = clock.now();
  const day = iso(now).slice(0, 10);
  if (!(await deps.attachments.chargeQuota(userId, day, input.size, settings.dailyQuotaBytes))) {
    const retryAfterSeconds = Math.max(1, Math.ceil((Date.parse(`${day}T00:00:00.000Z`) + 86_400_000 - now) / 1000));
    throw new DomainError(
      429,
      'upload_quota_exceeded',
      `Uploads are limited to ${settings.dailyQuotaBytes} bytes per day`,
      { retryAfterSeconds, quotaBytes: settings.dailyQuotaBytes },
      { 'Retry-After': String(retryAfterSeconds) },
    );
  }
  const attachmentId = `at_${randomBytes(16).toString('hex')}`;
  await deps.attachments.create({
    attachmentId,
    ownerId: userId,
    conversationId: input.conversationId,
    size: input.size,
    status: 'pending',
    createdAt: iso(now),
    expiresAt: Math.floor(now / 1000) + UNSHARED_TTL_SECONDS,
  });
  const expiresIn = settings.urlTtlSeconds;
  const { url, headers } = await deps.blobs.presignPut(blobKey(userId, attachmentId), input.size, expiresIn);
  return { attachmentId, upload: { url, method: 'PUT' as const, headers }, expiresIn, expiresAt: iso(now + expiresIn * 1000) };
}

const view = (r: AttachmentRecord) => ({
  attachmentId: r.attachmentId,
  conversationId: r.conversationId,
  size: r.size,
  status: r.status,
  createdAt: r.createdAt,
});

/** The owner's upload is stored at its declared size: it may now be shared. Idempotent. */
export async function completeUpload(deps: AttachmentDeps, userId: string, attachmentId: string) {
  const record = await deps.attachments.get(attachmentId);
  if (!record || record.ownerId !== userId || record.expiresAt * 1000 <= deps.clock.now()) throw notFound();
  if (record.status !== 'pending') return view(record);
  const size = await deps.blobs.sizeOf(blobKey(userId, attachmentId));
  // the signature admits only the declared size, so any other size is not this upload's doing: refuse it all the same
  if (size !== record.size) throw new Conflict('The upload has not arrived yet: PUT the bytes to the upload URL, then complete', 'upload_incomplete');
  const marked = await deps.attachments.markUploaded(attachmentId, userId);
  if (!marked) throw notFound();
  return view(marked);
}

/**
 * A presigned GET for the uploader, and for anyone who can see a message that shared the attachment
 * as history shows it (blocks, group membership and join time, retention); 404 for everyone else,
 * exactly as for an unknown id. The uploader's own link dies with its account.
 */
export async function downloadLink(deps: AttachmentDeps, userId: string, attachmentId: string) {
  const now = deps.clock.now();
  const { record, shares } = await deps.attachments.withShares(attachmentId);
  if (!record || record.expiresAt * 1000 <= now || record.status === 'pending') throw notFound();
  const own = record.ownerId === userId;
  if (!own && (shares.length === 0 || !(await deps.attachments.canSee(userId, record.ownerId, shares)))) throw notFound();
  const expiresIn = deps.settings.urlTtlSeconds;
  const { url, headers } = await deps.blobs.presignGet(blobKey(record.ownerId, attachmentId), expiresIn);
  return { attachmentId, size: record.size, download: { url, method: 'GET' as const, headers }, expiresIn, expiresAt: iso(now + expiresIn * 1000) };
}

/** What one sweep did. */
export interface SweepResult {
  unsharedDeleted: number;
  accountsPurged: number;
  blobsPurged: number;
}

/**
 * The scheduled sweeper: deletes never-shared uploads begun UNSHARED_DELETE_AFTER_SECONDS ago or
 * earlier (the record, unless a share won the race, then the blob), and every blob and record of
 * deleted accounts, again at each run for PURGE_REPEAT_SECONDS. Idempotent: a crash is finished by the next run.
 */
export async function sweep(deps: Pick<AttachmentDeps, 'clock' | 'attachments' | 'blobs'>): Promise<SweepResult> {
  const result: SweepResult = { unsharedDeleted: 0, accountsPurged: 0, blobsPurged: 0 };
  const cutoff = deps.clock.now() - UNSHARED_DELETE_AFTER_SECONDS * 1000;
  const lastHour = Math.floor(cutoff / 3_600_000);
  for (let h = lastHour - SWEEP_LOOKBACK_HOURS; h <= lastHour; h++) {
    for (const r of await deps.attachments.pendingInHour(iso(h * 3_600_000).slice(0, 13))) {
      if (Date.parse(r.createdAt) > cutoff) continue;
      // the record goes only while still unshared; then its blob (a share that won keeps both)
      if (!(await deps.attachments.deleteUnshared(r.attachmentId))) continue;
      await deps.blobs.deleteObject(blobKey(r.ownerId, r.attachmentId));
      result.unsharedDeleted++;
    }
  }
  for (const { userId, requestedAt } of await deps.attachments.purgeRequests()) {
    result.blobsPurged += await deps.blobs.deletePrefix(blobKey(userId, ''));
    // an upload URL signed before the deletion may still deliver a blob (a slow PUT begun in time):
    // the marker stays, and each sweep purges the prefix again, until none can be in flight
    const done = Date.parse(requestedAt) + PURGE_REPEAT_SECONDS * 1000 <= deps.clock.now();
    await deps.attachments.completePurge(userId, done);
    if (done) result.accountsPurged++;
  }
  return result;
}
