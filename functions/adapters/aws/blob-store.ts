// The attachment blobs in S3, reached by presigned requests alone: the SDK's S3 presigner (SigV4 over
// node:crypto) signs a PUT whose signature covers Content-Length and Content-Type (S3 refuses any other
// size), a GET for downloads, and the HEAD, DELETE and list requests the server makes itself, which it
// then sends with fetch. No S3 client: it would add ~135 KB to each attachment Lambda for four calls.
// In AWS the URLs are virtual-hosted (https://<bucket>.s3.<region>.amazonaws.com/<key>); on the laptop
// path-style against the local S3 (local/s3.ts), which checks the same signatures.
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { HttpRequest } from '@smithy/core/transport';
import type { AttachmentConfig } from '#core/config.ts';
import type { BlobStorePort, Clock } from '#core/ports.ts';
import { Sha256 } from './sha256.ts';

const CONTENT_TYPE = 'application/octet-stream';
/** Life of the URLs the server signs for its own requests (sent at once). */
const OWN_REQUEST_SECONDS = 60;

/** RFC 3986 encoding of each path segment, as S3 expects in a canonical URI. */
const encodeKey = (key: string) => key.split('/').map(encodeURIComponent).join('/');

export function s3BlobStore(settings: Pick<AttachmentConfig, 'bucket' | 's3Endpoint'>, region: string, clock: Clock): BlobStorePort {
  const presigner = new S3RequestPresigner({ region, credentials: fromEnv(), sha256: Sha256, service: 's3' });
  const base = settings.s3Endpoint ? new URL(settings.s3Endpoint) : new URL(`https://${settings.bucket}.s3.${region}.amazonaws.com`);
  const pathPrefix = settings.s3Endpoint ? `/${settings.bucket}` : '';

  /** A presigned URL for `method` on `key` (or the bucket with `query`), with these headers signed. */
  async function sign(method: string, key: string, expiresIn: number, headers: Record<string, string> = {}, query: Record<string, string> = {}) {
    const request = new HttpRequest({
      method,
      protocol: base.protocol,
      hostname: base.hostname,
      ...(base.port ? { port: Number(base.port) } : {}),
      path: `${pathPrefix}/${encodeKey(key)}`,
      query,
      headers: { host: base.host, ...headers },
    });
    const signed = await presigner.presign(request, {
      expiresIn,
      signingDate: new Date(clock.now()),
      signableHeaders: new Set(Object.keys(headers).map((h) => h.toLowerCase())),
    });
    const search = new URLSearchParams(signed.query as Record<string, string>).toString().replace(/\+/g, '%20');
    return `${base.protocol}//${base.host}${signed.path}?${search}`;
  }

  /** Sends a request the server signed for itself; S3's answer, refused unless `ok` allows its status. */
  async function send(method: string, key: string, query: Record<string, string> = {}, ok: readonly number[] = [200, 204]) {
    const res = await fetch(await sign(method, key, OWN_REQUEST_SECONDS, {}, query), { method });
    if (!ok.includes(res.status)) throw new Error(`S3 ${method} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    return res;
  }

  return {
    async presignPut(key, size, expiresIn) {
      const headers = { 'Content-Type': CONTENT_TYPE, 'Content-Length': String(size) };
      return { url: await sign('PUT', key, expiresIn, headers), headers };
    },
    async presignGet(key, expiresIn) {
      return { url: await sign('GET', key, expiresIn), headers: {} };
    },
    async sizeOf(key) {
      // S3 answers a HEAD of a missing object with 403 to a role without s3:ListBucket (ours has only
      // GetObject on the prefix): both mean "not there", and a HEAD has no body to tell them apart
      const res = await send('HEAD', key, {}, [200, 403, 404]);
      return res.status === 200 ? Number(res.headers.get('content-length')) : undefined;
    },
    async deleteObject(key) {
      await send('DELETE', key);
    },
    async deletePrefix(prefix) {
      let deleted = 0;
      let token: string | undefined;
      do {
        // ListObjectsV2 on the bucket; its XML holds the keys (escaped) and the next page's token
        const xml = await (await send('GET', '', { 'list-type': '2', prefix, ...(token ? { 'continuation-token': token } : {}) })).text();
        const unescape = (v: string) =>
          v
            .replace(/&lt;/g, '<')
            .replace(/&gt;/g, '>')
            .replace(/&quot;/g, '"')
            .replace(/&apos;/g, "'")
            .replace(/&amp;/g, '&');
        const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescape(m[1]!));
        for (let i = 0; i < keys.length; i += 16) await Promise.all(keys.slice(i, i + 16).map((k) => send('DELETE', k)));
        deleted += keys.length;
        const next = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1];
        token = /<IsTruncated>true<\/IsTruncated>/.test(xml) && next ? unescape(next) : undefined;
      } while (token);
      return deleted;
    },
  };
}
