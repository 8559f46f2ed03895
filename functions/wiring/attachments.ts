// Composition root of attachments: the records (attachments table, with the messages and users tables
// read for membership and visibility), the blob store (S3) and their settings, parsed once on first
// use (only the attachment routes and the sweeper read these variables).
import { s3BlobStore } from '#adapters/aws/blob-store.ts';
import { attachmentsTable } from '#adapters/dynamodb/attachments-table.ts';
import type { AttachmentDeps } from '#core/attachments.ts';
import { loadAttachmentConfig, type AttachmentConfig } from '#core/config.ts';
import type { AttachmentsPort, BlobStorePort } from '#core/ports.ts';
import { clock, config, db } from './platform.ts';

let settings: AttachmentConfig | undefined;
let records: AttachmentsPort | undefined;
let blobs: BlobStorePort | undefined;

export function attachmentDeps(): AttachmentDeps {
  settings ??= loadAttachmentConfig(process.env);
  records ??= attachmentsTable(db(), clock());
  blobs ??= s3BlobStore(settings, config().region, clock());
  return { config: config(), settings, clock: clock(), attachments: records, blobs };
}
