// The attachment blobs in S3: presigned PUTs whose signature covers Content-Length and Content-Type
// (S3 refuses any other size), presigned GETs, a HEAD for the completed size, and deletions for the
// sweeper. On the laptop the same client talks to local/s3.ts (path-style, the fixed local keys).
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AttachmentConfig } from '#core/config.ts';
import type { BlobStorePort, Clock } from '#core/ports.ts';

const CONTENT_TYPE = 'application/octet-stream';

/** URLs are signed at the app's clock (the laptop runtime may move it; S3 checks expiry against the signing time). */
export function s3BlobStore(settings: Pick<AttachmentConfig, 'bucket' | 's3Endpoint'>, region: string, clock: Clock): BlobStorePort {
  const client = new S3Client({
    region,
    ...(settings.s3Endpoint ? { endpoint: settings.s3Endpoint, forcePathStyle: true } : {}),
    // no flexible checksums: a presigned PUT from a browser carries none, and S3 would demand the one signed
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
  const Bucket = settings.bucket;
  // signed at the app's clock too (zero offset in Lambda; the laptop runtime may have moved its clock)
  const atAppTime = () => {
    // eslint-disable-next-line no-restricted-properties -- the offset between the app's clock and real time
    client.config.systemClockOffset = clock.now() - Date.now();
    return client;
  };
  return {
    async presignPut(key, size, expiresIn) {
      const url = await getSignedUrl(client, new PutObjectCommand({ Bucket, Key: key, ContentLength: size, ContentType: CONTENT_TYPE }), {
        expiresIn,
        signingDate: new Date(clock.now()),
        signableHeaders: new Set(['content-length', 'content-type']),
      });
      return { url, headers: { 'Content-Type': CONTENT_TYPE, 'Content-Length': String(size) } };
    },
    async presignGet(key, expiresIn) {
      return { url: await getSignedUrl(client, new GetObjectCommand({ Bucket, Key: key }), { expiresIn, signingDate: new Date(clock.now()) }), headers: {} };
    },
    async sizeOf(key) {
      try {
        return (await atAppTime().send(new HeadObjectCommand({ Bucket, Key: key }))).ContentLength;
      } catch (error) {
        if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
        throw error;
      }
    },
    async deleteObject(key) {
      await atAppTime().send(new DeleteObjectCommand({ Bucket, Key: key }));
    },
    async deletePrefix(prefix) {
      let deleted = 0;
      let ContinuationToken: string | undefined;
      do {
        const page = await atAppTime().send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken }));
        const keys = (page.Contents ?? []).map((o) => o.Key!).filter(Boolean);
        // one DELETE per object: a handful per account, and no multi-object XML to build or check
        for (let i = 0; i < keys.length; i += 16) await Promise.all(keys.slice(i, i + 16).map((Key) => atAppTime().send(new DeleteObjectCommand({ Bucket, Key }))));
        deleted += keys.length;
        ContinuationToken = page.NextContinuationToken;
      } while (ContinuationToken);
      return deleted;
    },
  };
}
