// The laptop's S3 (local/s3.ts) refuses what S3 refuses, with URLs made by the real AWS SDK presigner:
// an upload longer or shorter than the signed Content-Length, a tampered or expired URL, other keys,
// a wrong secret, no signature at all; and it serves what was uploaded to a presigned GET.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LocalS3 } from '../local/s3.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local-secret' };
let now = Date.now();
let s3: LocalS3;
let client: S3Client;
const APP = 'https://app.example';

before(async () => {
  s3 = await new LocalS3({ region: 'us-east-1', credentials, buckets: ['attachments'], now: () => now, corsOrigins: [APP] }).start();
  // as the attachment routes will: no flexible checksum in presigned URLs (a browser PUT carries none)
  client = new S3Client({
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});
after(async () => {
  client.destroy();
  await s3.stop();
});

const putUrl = (key: string, size: number, expiresIn = 300, c = client) =>
  getSignedUrl(c, new PutObjectCommand({ Bucket: 'attachments', Key: key, ContentLength: size, ContentType: 'application/octet-stream' }), {
    expiresIn,
    signableHeaders: new Set(['content-length', 'content-type']),
  });
const getUrl = (key: string, expiresIn = 300) => getSignedUrl(client, new GetObjectCommand({ Bucket: 'attachments', Key: key }), { expiresIn });
const put = (url: string, body: Uint8Array, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream', ...headers } });

describe('local S3: presigned uploads and downloads', () => {
  test('an upload of exactly the signed size is stored and served by a presigned GET', async () => {
    const bytes = randomBytes(1000);
    const res = await put(await putUrl('u1/a', bytes.byteLength), bytes);
    assert.equal(res.status, 200, await res.text());
    const got = await fetch(await getUrl('u1/a'));
    assert.equal(got.status, 200);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), bytes);
  });

  test('a body of another size than the signed Content-Length is refused, and nothing is stored', async () => {
    const url = await putUrl('u1/b', 100);
    const bigger = await put(url, randomBytes(101));
    assert.equal(bigger.status, 403, 'the Content-Length is signed: a different one breaks the signature');
    assert.match(await bigger.text(), /SignatureDoesNotMatch/);
    const smaller = await put(url, randomBytes(99));
    assert.equal(smaller.status, 403);
    assert.ok(!s3.objects.has('attachments/u1/b'));
  });

  test('a body cut short of its Content-Length is refused, and nothing is stored', async () => {
    const { connect } = await import('node:net');
    const url = new URL(await putUrl('u1/c', 10));
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          `PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\n12345`,
        );
        socket.end(); // half-close: five bytes of the ten declared
      });
      let text = '';
      socket.on('data', (d) => (text += d));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    assert.doesNotMatch(answer, /^HTTP\/1\.1 200/, answer);
    assert.ok(!s3.objects.has('attachments/u1/c'));
  });

  test('a tampered URL (another key, another expiry) is refused', async () => {
    const url = await putUrl('u1/d', 5);
    const otherKey = url.replace('/u1/d?', '/u2/d?');
    assert.equal((await put(otherKey, randomBytes(5))).status, 403);
    const longer = url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604800');
    assert.equal((await put(longer, randomBytes(5))).status, 403);
    assert.equal(s3.objects.size >= 1 && [...s3.objects.keys()].some((k) => k.startsWith('attachments/u2/')), false);
  });

  test('a presigned request carrying x-amz-* headers it did not sign is refused, as S3 refuses it', async () => {
    // S3 would otherwise apply them (metadata, a website redirect, a storage class) to the object
    const url = await putUrl('u1/x', 5);
    for (const header of ['x-amz-website-redirect-location', 'x-amz-meta-note', 'x-amz-storage-class']) {
      const res = await put(url, randomBytes(5), { [header]: header === 'x-amz-storage-class' ? 'GLACIER' : '/evil' });
      assert.equal(res.status, 403, header);
      assert.match(await res.text(), /AccessDenied/);
    }
    assert.ok(!s3.objects.has('attachments/u1/x'));
    assert.equal((await put(url, randomBytes(5))).status, 200);
  });

  test('a path that is not valid percent-encoding is a 4xx, never a 500', async () => {
    const anonymous = await fetch(`${s3.endpoint}/attachments/u1/%E0%A4%A`, { method: 'GET' });
    assert.equal(anonymous.status, 403);
    const url = await getUrl('u1/%');
    const bad = url.replace('/u1/%25?', '/u1/%?');
    const res = await fetch(bad);
    assert.ok(res.status >= 400 && res.status < 500, `${res.status}`);
  });

  test('an expired URL is refused, for uploads and downloads', async () => {
    const upload = await putUrl('u1/e', 5, 60);
    const bytes = randomBytes(5);
    assert.equal((await put(await putUrl('u1/f', 5), bytes)).status, 200);
    const download = await getUrl('u1/f', 60);
    now += 61_000;
    try {
      const late = await put(upload, bytes);
      assert.equal(late.status, 403);
      assert.match(await late.text(), /expired/);
      assert.equal((await fetch(download)).status, 403);
    } finally {
      now -= 61_000;
    }
  });

  test('a URL signed with another secret, or none at all, is refused', async () => {
    const forger = new S3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { ...credentials, secretAccessKey: 'guess' },
    });
    try {
      assert.equal((await put(await putUrl('u1/g', 5, 300, forger), randomBytes(5))).status, 403);
      await assert.rejects(
        forger.send(new HeadObjectCommand({ Bucket: 'attachments', Key: 'u1/a' })),
        (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 403,
      );
    } finally {
      forger.destroy();
    }
    assert.equal((await fetch(`${s3.endpoint}/attachments/u1/a`)).status, 403, 'anonymous');
  });

  test('the server side signs with headers (HeadObject, DeleteObject) through the same checks', async () => {
    const bytes = randomBytes(42);
    assert.equal((await put(await putUrl('u1/h', 42), bytes)).status, 200);
    const head = await client.send(new HeadObjectCommand({ Bucket: 'attachments', Key: 'u1/h' }));
    assert.equal(head.ContentLength, 42);
    await client.send(new DeleteObjectCommand({ Bucket: 'attachments', Key: 'u1/h' }));
    await assert.rejects(client.send(new HeadObjectCommand({ Bucket: 'attachments', Key: 'u1/h' })), (e: Error) => e.name === 'NotFound');
  });
});

describe('local S3: CORS as the bucket rule allows it', () => {
  test("the app's origin gets its preflight and CORS headers; another origin gets a 403 preflight and none", async () => {
    const preflight = (origin: string) =>
      fetch(`${s3.endpoint}/attachments/u1/cors`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' },
      });
    const ok = await preflight(APP);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), APP);
    const other = await preflight('https://evil.example');
    assert.equal(other.status, 403);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const bytes = randomBytes(10);
    assert.equal((await put(await putUrl('u1/cors', 10), bytes, { origin: 'https://evil.example' })).headers.get('access-control-allow-origin'), null);
  });
});
