// The laptop's S3 for attachments: path-style buckets over HTTP that accept only requests signed
// with SigV4 by the fixed local credentials, presigned (query) or signed (Authorization header),
// and refuse what S3 would: an expired URL, a signature that does not match the request (so the
// signed Content-Length is the exact size an upload may have), unsigned x-amz-* headers on a
// presigned request, a body longer or shorter than its Content-Length. The signature is recomputed
// with the AWS SDK's own presigner and signer, never with crypto of our own. No npm emulator does this today without Docker or stale dependencies
// (s3rver, the usual choice, was last released in 2021 on busboy 0.3); see docs/architecture.md.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '../functions/adapters/aws/sha256.ts';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, relative, sep } from 'node:path';
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { HttpRequest } from '@smithy/core/transport';
import { SignatureV4 } from '@smithy/signature-v4';

export interface LocalS3Options {
  port?: number;
  host?: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Buckets that exist (anything else answers NoSuchBucket). */
  buckets: readonly string[];
  /** The clock signatures are checked against (epoch ms); tests move it. */
  now?: () => number;
  /** Largest body accepted at all, whatever a signature says (S3's single PUT limit is 5 GB). */
  maxObjectBytes?: number;
  /** Browser origins the bucket's CORS rule allows (PUT, GET, HEAD), as the stack configures it; default none. */
  corsOrigins?: readonly string[];
  /** Keep objects as files under this directory (npm start), so they outlive a restart like the tables do; default: memory only. */
  dir?: string;
}

export interface StoredObject {
  body: Buffer;
  contentType: string;
  lastModified: number;
}

const AUTH_QUERY = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Content-Sha256',
]);

/** "20261130T102439Z" → epoch ms. */
function amzDate(value: string | undefined): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : undefined;
}

class S3Error extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const sameSignature = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export class LocalS3 {
  readonly objects = new Map<string, StoredObject>();
  readonly #options: Required<Omit<LocalS3Options, 'port' | 'host'>> & Pick<LocalS3Options, 'port' | 'host'>;
  readonly #server: Server;
  readonly #presigner: S3RequestPresigner;
  readonly #signer: SignatureV4;
  #endpoint = '';

  constructor(options: LocalS3Options) {
    this.#options = { now: Date.now, maxObjectBytes: 5 * 1024 ** 3, dir: '', corsOrigins: [], ...options };
    if (this.#options.dir) this.#load(this.#options.dir);
    const signing = { region: options.region, credentials: options.credentials, sha256: Sha256, service: 's3' };
    this.#presigner = new S3RequestPresigner(signing);
    this.#signer = new SignatureV4({ ...signing, uriEscapePath: false, applyChecksum: false });
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        const e = error instanceof S3Error ? error : new S3Error(500, 'InternalError', 'We encountered an internal error.');
        if (!res.headersSent) {
          res.writeHead(e.status, { 'content-type': 'application/xml' });
          res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code}</Code><Message>${e.message}</Message></Error>`);
        } else res.destroy();
      });
    });
  }

  /** `http://host:port`, for the SDK's `endpoint` with `forcePathStyle: true`. */
  get endpoint(): string {
    return this.#endpoint;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(this.#options.port ?? 0, this.#options.host ?? '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.#endpoint = `http://${this.#options.host ?? '127.0.0.1'}:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Objects kept on disk by an earlier run: `<dir>/<bucket>/<key>`, the body as the file. */
  #load(dir: string): void {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      const id = relative(dir, path).split(sep).join('/');
      this.objects.set(id, { body: readFileSync(path), contentType: 'application/octet-stream', lastModified: statSync(path).mtimeMs });
    }
  }

  #persist(id: string, body: Buffer | undefined): void {
    const dir = this.#options.dir;
    if (!dir) return;
    const path = join(dir, ...id.split('/'));
    if (!path.startsWith(join(dir, sep))) return;
    if (body === undefined) rmSync(path, { force: true });
    else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, body);
    }
  }

  /** ListObjectsV2 (`GET /<bucket>?list-type=2&prefix=`): keys in order, up to 1000 a page. */
  #list(bucket: string, url: URL, res: ServerResponse): void {
    const prefix = url.searchParams.get('prefix') ?? '';
    const after = url.searchParams.get('continuation-token') ?? url.searchParams.get('start-after') ?? '';
    const max = Math.min(1000, Number(url.searchParams.get('max-keys') ?? 1000) || 1000);
    const keys = [...this.objects.keys()]
      .filter((id) => id.startsWith(`${bucket}/`))
      .map((id) => id.slice(bucket.length + 1))
      .filter((k) => k.startsWith(prefix) && k > after)
      .sort();
    const page = keys.slice(0, max);
    const more = keys.length > max;
    const xml = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    const contents = page
      .map((k) => {
        const o = this.objects.get(`${bucket}/${k}`)!;
        return `<Contents><Key>${xml(k)}</Key><LastModified>${new Date(o.lastModified).toISOString()}</LastModified><Size>${o.body.byteLength}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      })
      .join('');
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${xml(prefix)}</Prefix>` +
        `<KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${more}</IsTruncated>` +
        (more ? `<NextContinuationToken>${xml(page.at(-1)!)}</NextContinuationToken>` : '') +
        `${contents}</ListBucketResult>`,
    );
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const [, bucket, ...rest] = url.pathname.split('/');
    // CORS, as a bucket configured for the app's origins answers it (the browser uploads directly): an
    // allowed origin is named back; another gets no CORS header (its browser blocks the answer), and its preflight a 403
    const origin = req.headers.origin;
    const allowed = origin !== undefined && this.#options.corsOrigins.includes(origin);
    if (allowed) res.setHeader('access-control-allow-origin', origin);
    if (req.method === 'OPTIONS') {
      if (!allowed) throw new S3Error(403, 'AccessForbidden', 'CORSResponse: This CORS request is not allowed.');
      res.writeHead(200, { 'access-control-allow-methods': 'GET, PUT, HEAD', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '600' });
      res.end();
      return;
    }
    await this.#authenticate(req, url);
    const key = decodeKey(rest.join('/'));
    if (!bucket || !this.#options.buckets.includes(bucket)) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
    const id = `${bucket}/${key}`;
    if (req.method === 'GET' && key === '' && url.searchParams.get('list-type') === '2') return this.#list(bucket, url, res);
    if (req.method === 'PUT') {
      const declared = Number(req.headers['content-length']);
      if (!Number.isSafeInteger(declared)) throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
      if (declared > this.#options.maxObjectBytes) throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
      const body = await readBody(req, declared);
      this.objects.set(id, { body, contentType: String(req.headers['content-type'] ?? 'binary/octet-stream'), lastModified: this.#options.now() });
      this.#persist(id, body);
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
      res.end();
      return;
    }
    const object = this.objects.get(id);
    if (req.method === 'DELETE') {
      this.objects.delete(id);
      this.#persist(id, undefined);
      res.writeHead(204);
      res.end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    if (!object) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
    res.writeHead(200, {
      'content-type': object.contentType,
      'content-length': String(object.body.byteLength),
      'last-modified': new Date(object.lastModified).toUTCString(),
    });
    res.end(req.method === 'HEAD' ? undefined : object.body);
  }

  /** A presigned URL (query auth) or an Authorization header, recomputed with the SDK and compared. */
  async #authenticate(req: IncomingMessage, url: URL): Promise<void> {
    const denied = (message: string) => new S3Error(403, 'AccessDenied', message);
    const mismatch = () => new S3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    const query = Object.fromEntries(url.searchParams);
    const presigned = query['X-Amz-Signature'];
    const authorization = req.headers.authorization;
    const signedHeaders = presigned
      ? (query['X-Amz-SignedHeaders'] ?? '').split(';')
      : (/SignedHeaders=([^,]+)/.exec(authorization ?? '')?.[1] ?? '').split(';');
    if (!presigned && !authorization) throw denied('Anonymous access is forbidden for this operation');
    const date = amzDate(presigned ? query['X-Amz-Date'] : String(req.headers['x-amz-date'] ?? ''));
    if (date === undefined) throw denied('AWS authentication requires a valid Date or x-amz-date header');
    const credential = presigned ? query['X-Amz-Credential'] : /Credential=([^,]+)/.exec(authorization ?? '')?.[1];
    if (credential?.split('/')[0] !== this.#options.credentials.accessKeyId)
      throw new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    const now = this.#options.now();
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      const value = req.headers[name];
      if (value === undefined) throw mismatch();
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const [hostname, port] = (req.headers.host ?? '').split(':');
    const base = { method: req.method ?? 'GET', protocol: 'http:', hostname: hostname!, ...(port ? { port: Number(port) } : {}), path: url.pathname };
    if (presigned) {
      // S3 refuses x-amz-* headers a presigned URL did not sign (it would apply them: metadata, redirects, storage class)
      if (Object.keys(req.headers).some((h) => h.startsWith('x-amz-') && !signedHeaders.includes(h)))
        throw denied('There were headers present in the request which were not signed');
      const expires = Number(query['X-Amz-Expires']);
      if (!Number.isInteger(expires) || expires < 1 || expires > 604_800) throw denied('X-Amz-Expires must be between 1 and 604800 seconds');
      if (now > date + expires * 1000) throw denied('Request has expired');
      const unsigned = Object.fromEntries(Object.entries(query).filter(([k]) => !AUTH_QUERY.has(k)));
      const again = await this.#presigner.presign(new HttpRequest({ ...base, query: unsigned, headers }), {
        signingDate: new Date(date),
        expiresIn: expires,
        signableHeaders: new Set(signedHeaders),
      });
      if (!sameSignature(String(again.query?.['X-Amz-Signature'] ?? ''), presigned)) throw mismatch();
      return;
    }
    // header auth: S3 allows 15 minutes of clock skew
    if (Math.abs(now - date) > 15 * 60 * 1000)
      throw new S3Error(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    const again = await this.#signer.sign(new HttpRequest({ ...base, query, headers }), {
      signingDate: new Date(date),
      signableHeaders: new Set(signedHeaders),
    });
    const ours = /Signature=([0-9a-f]+)/.exec(String(again.headers.authorization))?.[1] ?? '';
    const theirs = /Signature=([0-9a-f]+)/.exec(authorization ?? '')?.[1] ?? '';
    if (!sameSignature(ours, theirs)) throw mismatch();
  }
}

/** The object key of a path (percent-decoded); S3 answers 400 InvalidURI to one it cannot decode. */
function decodeKey(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
  }
}

/** Exactly `length` bytes, or the upload is refused (S3 answers IncompleteBody / a reset for more). */
async function readBody(req: IncomingMessage, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of req) {
    received += (chunk as Buffer).byteLength;
    if (received > length) throw new S3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header');
    chunks.push(chunk as Buffer);
  }
  if (received !== length) throw new S3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header');
  return Buffer.concat(chunks);
}
