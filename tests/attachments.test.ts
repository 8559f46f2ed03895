// Encrypted attachments end to end: the real handlers behind the local gateway, DynamoDB Local, and the
// local S3 (presigned signatures and sizes checked, local/s3.ts). Clients encrypt with tweetnacl as the
// SDK does; the server and the bucket only ever hold ciphertext. Then what an attacker tries: other
// people's ids, removed members, blockers, expired URLs, sizes other than the one signed, quotas.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import nacl from 'tweetnacl';
import type { Runtime } from '../local/runtime.ts';
import { request, startTestRuntime, type HttpReply } from './support/runtime.ts';
import { bearer, logIn, type Account, signUpWithKeys, type KeyedAccount, sealGroup } from './support/identity.ts';

const MAX_BYTES = 64 * 1024;
const QUOTA = 256 * 1024;
const RETENTION_DAYS = 30;
let rt: Runtime;

before(async () => {
  rt = await startTestRuntime({
    ATTACHMENT_MAX_BYTES: String(MAX_BYTES),
    ATTACHMENT_DAILY_QUOTA_BYTES: String(QUOTA),
    MESSAGE_RETENTION_DAYS: String(RETENTION_DAYS),
  });
});
after(async () => {
  await rt?.stop();
});

type Person = KeyedAccount;

const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
const call = (who: Account, method: string, path: string, body?: unknown): Promise<HttpReply> =>
  request(rt.httpUrl, method, path, { headers: bearer(who.accessToken), ...(body === undefined ? {} : { body }) });

const person = (name: string): Promise<Person> => signUpWithKeys(rt, name);

async function dm(a: Person, b: Person): Promise<string> {
  const r = await call(a, 'POST', '/api/conversations', { userId: b.userId });
  assert.ok([200, 201].includes(r.status), r.text);
  return r.json.conversationId as string;
}

/** The SDK's file encryption: secretbox under a fresh key; key, nonce and digest go inside the message. */
function encryptFile(plain: Uint8Array) {
  const key = nacl.randomBytes(32);
  const nonce = nacl.randomBytes(24);
  const blob = nacl.secretbox(plain, nonce, key);
  return { blob, meta: { key: b64(key), nonce: b64(nonce), sha256: createHash('sha256').update(blob).digest('hex') } };
}

async function upload(who: Account, conversationId: string, blob: Uint8Array, opts: { complete?: boolean } = {}): Promise<string> {
  const start = await call(who, 'POST', '/api/attachments', { size: blob.byteLength, conversationId });
  assert.equal(start.status, 201, start.text);
  const { attachmentId, upload: u, expiresIn } = start.json;
  assert.ok(expiresIn <= 300, 'an upload URL lives at most 5 minutes');
  assert.equal(u.method, 'PUT');
  assert.equal(u.headers['Content-Type'], 'application/octet-stream');
  const put = await fetch(u.url, { method: 'PUT', headers: u.headers, body: blob });
  assert.equal(put.status, 200, await put.text());
  if (opts.complete !== false) {
    const done = await call(who, 'POST', `/api/attachments/${attachmentId}/complete`);
    assert.equal(done.status, 200, done.text);
    assert.equal(done.json.status, 'uploaded');
  }
  return attachmentId as string;
}

/** A direct message (HTTP) whose ciphertext carries the file's key and digest, sharing the attachment. */
async function sendWith(from: Person, to: Person, conversationId: string, attachmentIds: string[], fileMeta: unknown = {}): Promise<HttpReply> {
  const nonce = nacl.randomBytes(24);
  const plain = new TextEncoder().encode(JSON.stringify({ text: 'a file', files: fileMeta }));
  return call(from, 'POST', `/api/conversations/${conversationId}/messages`, {
    clientMessageId: randomUUID(),
    ciphertext: b64(nacl.box(plain, nonce, to.box.publicKey, from.box.secretKey)),
    nonce: b64(nonce),
    senderKeyVersion: 1,
    recipientKeyVersion: 1,
    attachmentIds,
  });
}

/** After the clock moved past the access token's life: signs in again. */
async function fresh(...people: Account[]): Promise<void> {
  for (const p of people) {
    const r = await logIn(rt, p.email, p.password);
    assert.equal(r.status, 200, r.text);
    p.accessToken = r.json.accessToken;
  }
}

async function download(who: Account, attachmentId: string): Promise<HttpReply> {
  return call(who, 'GET', `/api/attachments/${attachmentId}`);
}

async function group(admin: Person, members: Person[]): Promise<string> {
  const r = await call(admin, 'POST', '/api/groups', { name: 'files', memberIds: members.map((m) => m.userId) });
  assert.equal(r.status, 201, r.text);
  const id = r.json.conversationId as string;
  for (const m of members) {
    const a = await call(m, 'POST', `/api/groups/${id}/invitations/accept`);
    assert.equal(a.status, 200, a.text);
  }
  return id;
}

async function sendToGroup(from: Person, conversationId: string, members: Person[], attachmentIds: string[]): Promise<HttpReply> {
  return call(from, 'POST', `/api/groups/${conversationId}/messages`, { ...sealGroup('group file', from, members), attachmentIds });
}

/** Every object in the local bucket, and every item of every table, as bytes/text to search. */
function bucketObjects(): Buffer[] {
  return [...rt.s3.objects.entries()].filter(([id]) => id.startsWith(`${rt.attachmentsBucket}/`)).map(([, o]) => o.body);
}

describe('attachments: encrypted files through presigned URLs', () => {
  test('a full round trip: B downloads what A uploaded and decrypts it; the bucket and the tables hold no plaintext', async () => {
    const [alice, bob] = [await person('Alice'), await person('Bob')];
    const conversationId = await dm(alice, bob);
    const canary = `PLAINTEXT-CANARY-${randomUUID()}`;
    const plain = new TextEncoder().encode(`${canary} ${'photo bytes '.repeat(500)}`);
    const { blob, meta } = encryptFile(plain);
    const attachmentId = await upload(alice, conversationId, blob);
    const sent = await sendWith(alice, bob, conversationId, [attachmentId], meta);
    assert.equal(sent.status, 201, sent.text);

    // Bob finds the id on the message (history), never the key: that is inside the ciphertext
    const history = await call(bob, 'GET', `/api/conversations/${conversationId}/messages`);
    assert.equal(history.status, 200, history.text);
    assert.deepEqual(history.json.messages[0].attachmentIds, [attachmentId]);
    const link = await download(bob, attachmentId);
    assert.equal(link.status, 200, link.text);
    assert.ok(link.json.expiresIn <= 300, 'a download URL lives at most 5 minutes');
    assert.equal(link.json.size, blob.byteLength);
    const got = new Uint8Array(await (await fetch(link.json.download.url)).arrayBuffer());
    assert.equal(createHash('sha256').update(got).digest('hex'), meta.sha256, 'the digest inside the message matches');
    const opened = nacl.secretbox.open(got, Buffer.from(meta.nonce, 'base64'), Buffer.from(meta.key, 'base64'));
    assert.ok(opened, 'B decrypts the blob with the key from the message');
    assert.deepEqual(Buffer.from(opened), Buffer.from(plain));

    const objects = bucketObjects();
    assert.ok(
      objects.some((o) => o.equals(Buffer.from(blob))),
      'the blob is in the bucket',
    );
    assert.ok(!objects.some((o) => o.includes(canary)), 'no object holds the plaintext');
    const items = await rt.db.doc.send(new ScanCommand({ TableName: rt.db.table('attachments') }));
    assert.ok(!JSON.stringify(items.Items).includes(canary));
    const shared = items.Items!.find((i) => i.pk === `ATT#${attachmentId}` && i.sk === 'META');
    assert.equal(shared?.status, 'shared');
    assert.equal(shared?.pendingHour, undefined, 'a shared upload leaves the sweeper’s index');
  });

  test('an upload of more bytes than declared is refused by the signature; nothing is stored and it cannot be completed', async () => {
    const [alice, bob] = [await person('Alice'), await person('Bob')];
    const conversationId = await dm(alice, bob);
    const start = await call(alice, 'POST', '/api/attachments', { size: 1000, conversationId });
    assert.equal(start.status, 201);
    const { upload: u, attachmentId } = start.json;
    for (const size of [1001, 999]) {
      const put = await fetch(u.url, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: new Uint8Array(size) });
      assert.equal(put.status, 403, `a ${size}-byte body against a 1000-byte signature`);
    }
    const other = await fetch(u.url, { method: 'PUT', headers: { 'Content-Type': 'text/html', 'Content-Length': '1000' }, body: new Uint8Array(1000) });
    assert.equal(other.status, 403, 'the content type is signed too');
    const done = await call(alice, 'POST', `/api/attachments/${attachmentId}/complete`);
    assert.equal(done.status, 409);
    assert.equal(done.json.error.code, 'upload_incomplete');
    const send = await sendWith(alice, bob, conversationId, [attachmentId]);
    assert.equal(send.status, 409, 'an unfinished upload cannot be shared');
    assert.equal(send.json.error.code, 'attachment_not_uploaded');
  });

  test('the per-file limit is a 413 and the daily quota a 429 with Retry-After; neither starts an upload', async () => {
    const [alice, bob] = [await person('Alice'), await person('Bob')];
    const conversationId = await dm(alice, bob);
    assert.equal((await sendWith(alice, bob, conversationId, [])).status, 201, 'Bob is a member once a message reached him');
    const big = await call(alice, 'POST', '/api/attachments', { size: MAX_BYTES + 1, conversationId });
    assert.equal(big.status, 413, big.text);
    assert.equal(big.json.error.code, 'attachment_too_large');
    assert.equal(big.json.error.details.maxBytes, MAX_BYTES);
    for (let i = 0; i < QUOTA / MAX_BYTES; i++) assert.equal((await call(alice, 'POST', '/api/attachments', { size: MAX_BYTES, conversationId })).status, 201);
    const over = await call(alice, 'POST', '/api/attachments', { size: 1, conversationId });
    assert.equal(over.status, 429, over.text);
    assert.equal(over.json.error.code, 'upload_quota_exceeded');
    const retry = Number(over.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 86_400, `retry at the next UTC midnight (${retry} s)`);
    assert.equal(over.json.error.details.retryAfterSeconds, retry);
    // Bob's quota is his own
    assert.equal((await call(bob, 'POST', '/api/attachments', { size: 1, conversationId })).status, 201);
    // the quota item holds only what was accepted: the refused byte was not counted
    const day = new Date(rt.clock.now()).toISOString().slice(0, 10);
    const counted = await rt.db.doc.send(new GetCommand({ TableName: rt.db.table('attachments'), Key: { pk: `QUOTA#${alice.userId}`, sk: `DAY#${day}` } }));
    assert.equal(counted.Item?.bytes, QUOTA);
  });

  test('only members start uploads; only the owner completes; only the owner shares, in its own conversation', async () => {
    const [alice, bob, mallory] = [await person('Alice'), await person('Bob'), await person('Mallory')];
    const conversationId = await dm(alice, bob);
    assert.equal((await sendWith(alice, bob, conversationId, [])).status, 201, 'Bob is a member once a message reached him');
    const outsider = await call(mallory, 'POST', '/api/attachments', { size: 10, conversationId });
    assert.equal(outsider.status, 404, 'a stranger cannot upload into a conversation');
    const attachmentId = await upload(alice, conversationId, encryptFile(new Uint8Array(10)).blob, { complete: false });
    assert.equal((await call(mallory, 'POST', `/api/attachments/${attachmentId}/complete`)).status, 404);
    assert.equal((await call(bob, 'POST', `/api/attachments/${attachmentId}/complete`)).status, 404);
    assert.equal((await call(alice, 'POST', `/api/attachments/${attachmentId}/complete`)).status, 200);
    assert.equal((await call(alice, 'POST', `/api/attachments/${attachmentId}/complete`)).status, 200, 'completing twice is fine');
    // Bob may not share Alice's upload, not even in their own conversation
    const stolen = await sendWith(bob, alice, conversationId, [attachmentId]);
    assert.equal(stolen.status, 404);
    assert.equal(stolen.json.error.code, 'attachment_not_found');
    // Alice may not share it in another conversation
    const elsewhere = await sendWith(alice, mallory, await dm(alice, mallory), [attachmentId]);
    assert.equal(elsewhere.status, 404);
    const unknown = await sendWith(alice, bob, conversationId, [`at_${'0'.repeat(32)}`]);
    assert.equal(unknown.status, 404);
    // and a refused send stored nothing
    const history = await call(bob, 'GET', `/api/conversations/${conversationId}/messages`);
    assert.equal(history.json.messages.length, 1, 'only the first message');
    // the stranger never gets a link, before or after sharing
    assert.equal((await download(mallory, attachmentId)).status, 404);
    assert.equal((await sendWith(alice, bob, conversationId, [attachmentId])).status, 201);
    assert.equal((await download(mallory, attachmentId)).status, 404);
    assert.equal((await download(bob, attachmentId)).status, 200);
    assert.equal((await download(alice, attachmentId)).status, 200);
  });

  test('a stranger, a member removed before the message, and a member who blocks the sender get 404; the rest download', async () => {
    const [admin, stays, removed, blocker, stranger] = [
      await person('Ada'),
      await person('Sam'),
      await person('Rex'),
      await person('Bea'),
      await person('Eve'),
    ];
    const conversationId = await group(admin, [stays, removed, blocker]);
    const gone = await call(admin, 'DELETE', `/api/groups/${conversationId}/members/${removed.userId}`);
    assert.ok([200, 204].includes(gone.status), gone.text);
    assert.equal((await call(blocker, 'POST', `/api/users/${admin.userId}/block`)).status < 300, true);
    const attachmentId = await upload(admin, conversationId, encryptFile(new TextEncoder().encode('group photo')).blob);
    const sent = await sendToGroup(admin, conversationId, [admin, stays, blocker], [attachmentId]);
    assert.equal(sent.status, 201, sent.text);
    assert.equal((await download(stays, attachmentId)).status, 200);
    for (const [who, p] of [
      ['stranger', stranger],
      ['removed before the message', removed],
      ['blocks the sender', blocker],
    ] as const) {
      const r = await download(p, attachmentId);
      assert.equal(r.status, 404, `${who}: ${r.text}`);
      assert.equal(r.json.error.code, 'attachment_not_found');
    }
    // a member removed after the message loses it with the rest of the history
    assert.ok([200, 204].includes((await call(admin, 'DELETE', `/api/groups/${conversationId}/members/${stays.userId}`)).status));
    assert.equal((await download(stays, attachmentId)).status, 404);
  });

  test('a direct message hidden from a recipient who blocks the sender shares nothing with them', async () => {
    const [alice, bob] = [await person('Alice'), await person('Bob')];
    const conversationId = await dm(alice, bob);
    assert.ok((await call(bob, 'POST', `/api/users/${alice.userId}/block`)).status < 300);
    const attachmentId = await upload(alice, conversationId, encryptFile(new Uint8Array(100)).blob);
    assert.equal((await sendWith(alice, bob, conversationId, [attachmentId])).status, 201, 'the sender cannot tell');
    assert.equal((await download(bob, attachmentId)).status, 404);
  });

  test('an expired URL is refused, upload and download alike', async () => {
    const [alice, bob] = [await person('Alice'), await person('Bob')];
    const conversationId = await dm(alice, bob);
    const { blob } = encryptFile(new Uint8Array(50));
    const start = await call(alice, 'POST', '/api/attachments', { size: blob.byteLength, conversationId });
    rt.clock.advance((start.json.expiresIn + 1) * 1000);
    const late = await fetch(start.json.upload.url, { method: 'PUT', headers: start.json.upload.headers, body: blob });
    assert.equal(late.status, 403);
    assert.match(await late.text(), /expired/);
    const attachmentId = await upload(alice, conversationId, blob);
    assert.equal((await sendWith(alice, bob, conversationId, [attachmentId])).status, 201);
    const link = await download(bob, attachmentId);
    assert.equal((await fetch(link.json.download.url)).status, 200);
    rt.clock.advance((link.json.expiresIn + 1) * 1000);
    const stale = await fetch(link.json.download.url);
    assert.equal(stale.status, 403);
  });

  test('an attachment expires with its message: after the retention, no one gets a link', async () => {
    const [alice, bob] = [await person('Alice'), await person('Bob')];
    const conversationId = await dm(alice, bob);
    const attachmentId = await upload(alice, conversationId, encryptFile(new Uint8Array(30)).blob);
    assert.equal((await sendWith(alice, bob, conversationId, [attachmentId])).status, 201);
    assert.equal((await download(bob, attachmentId)).status, 200);
    rt.clock.advance(RETENTION_DAYS * 86_400_000 + 1000);
    await fresh(alice, bob);
    assert.equal((await download(bob, attachmentId)).status, 404);
    assert.equal((await download(alice, attachmentId)).status, 404);
  });

  test('the sweeper deletes never-shared uploads within 24 hours and keeps shared ones; a deleted account’s blobs go', async () => {
    const [alice, bob] = [await person('Alice'), await person('Bob')];
    const conversationId = await dm(alice, bob);
    const unshared = await upload(alice, conversationId, encryptFile(new Uint8Array(10)).blob);
    const shared = await upload(alice, conversationId, encryptFile(new Uint8Array(20)).blob);
    assert.equal((await sendWith(alice, bob, conversationId, [shared])).status, 201);
    const key = (id: string) => `${rt.attachmentsBucket}/attachments/${alice.userId}/${id}`;
    await rt.sweepAttachments();
    assert.ok(rt.s3.objects.has(key(unshared)), 'young uploads stay');
    rt.clock.advance(21 * 3600 * 1000);
    await fresh(alice, bob);
    await rt.sweepAttachments();
    assert.ok(!rt.s3.objects.has(key(unshared)), 'an upload never shared is gone inside 24 hours');
    assert.equal((await download(alice, unshared)).status, 404);
    assert.ok(rt.s3.objects.has(key(shared)), 'a shared one lives as long as its message');
    assert.equal((await download(bob, shared)).status, 200);
    // sharing an upload after the share window is refused (the sweeper may be about to take it)
    const late = await upload(alice, conversationId, encryptFile(new Uint8Array(5)).blob);
    rt.clock.advance(13 * 3600 * 1000);
    await fresh(alice, bob);
    assert.equal((await sendWith(alice, bob, conversationId, [late])).status, 404);

    const deleted = await call(alice, 'DELETE', '/api/users/me', { password: alice.password });
    assert.equal(deleted.status, 204, deleted.text);
    assert.equal((await download(bob, shared)).status, 404, 'downloads stop at once');
    await rt.sweepAttachments();
    assert.ok(![...rt.s3.objects.keys()].some((k) => k.includes(`/attachments/${alice.userId}/`)), 'every blob of the account is deleted');
    // the marker stays a day (uploads signed before the deletion may still land), then goes
    rt.clock.advance(24 * 3600 * 1000);
    await rt.sweepAttachments();
    const left = await rt.db.doc.send(new ScanCommand({ TableName: rt.db.table('attachments') }));
    assert.ok(!left.Items!.some((i) => i.ownerId === alice.userId || i.sk === `USER#${alice.userId}`), 'and every record, the purge marker too');
  });
});
