// Encrypted attachments through the client SDK, against the real local runtime (gateways, DynamoDB Local,
// the local S3 that checks presigned signatures and the signed Content-Length): A uploads with progress
// and sends the file's key inside a message, B opens the message, downloads and decrypts the same bytes;
// a byte flipped in the bucket is refused with AttachmentTampered; a group of three; the browser path
// (XMLHttpRequest) through a stand-in; an aborted upload.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AttachmentTampered,
  NexChatClient,
  composeMessage,
  decryptFile,
  generateDeviceKeys,
  parseMessage,
  publicKeyUpload,
  type DeviceKeys,
} from '../client/index.ts';
import type { Runtime } from '../local/runtime.ts';
import { lastCode, uniqueEmail } from './support/identity.ts';
import { startTestRuntime } from './support/runtime.ts';

let rt: Runtime;
const sockets: WebSocket[] = [];
before(async () => {
  rt = await startTestRuntime();
});
after(async () => {
  for (const s of sockets) s.close();
  await rt?.stop();
});

interface Person {
  client: NexChatClient;
  userId: string;
  keys: DeviceKeys;
  /** Requests to the storage (not the API): method, path and the headers sent. */
  storage: { method: string; path: string; headers: Record<string, string> }[];
  /** API calls as `METHOD /path`. */
  calls: string[];
}

async function person(name: string): Promise<Person> {
  const storage: Person['storage'] = [];
  const calls: string[] = [];
  const f: typeof fetch = (input, init) => {
    const url = new URL(String(input));
    if (url.origin === new URL(rt.httpUrl).origin) calls.push(`${init?.method ?? 'GET'} ${url.pathname}`);
    else storage.push({ method: init?.method ?? 'GET', path: url.pathname, headers: { ...(init?.headers as Record<string, string>) } });
    return fetch(input, init);
  };
  const client = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl, fetch: f });
  const email = uniqueEmail('files-sdk');
  await client.requestOtp('email', email, 'register');
  const user = await client.register({ email, displayName: name, password: 'client-side-secret-1', code: await lastCode(rt, email, 'register') });
  const keys = generateDeviceKeys();
  await client.request('PUT', '/api/users/public-key', publicKeyUpload(keys));
  return { client, userId: user.userId, keys, storage, calls };
}

async function socketOf(p: Person) {
  const ws = await p.client.connect();
  sockets.push(ws);
  const got: any[] = [];
  ws.addEventListener('message', (e) => got.push(JSON.parse(String(e.data))));
  return {
    ws,
    async next(type: string, ms = 5000): Promise<any> {
      const deadline = Date.now() + ms;
      for (;;) {
        const i = got.findIndex((f) => f.type === type);
        if (i >= 0) return got.splice(i, 1)[0];
        if (Date.now() > deadline) throw new Error(`no ${type} frame`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** A file of `size` bytes that starts with a plaintext canary. */
function fileWithCanary(size: number): { bytes: Uint8Array; canary: string } {
  const canary = `PLAINTEXT-CANARY-${crypto.randomUUID()}`;
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  bytes.set(new TextEncoder().encode(canary));
  return { bytes, canary };
}

/** Progress calls, and a check that they only moved forward, started at 0 and ended at total, once. */
function progressLog() {
  const seen: [number, number][] = [];
  return {
    seen,
    onProgress: (sent: number, total: number) => seen.push([sent, total]),
    assertWellFormed(total: number, minSteps: number) {
      assert.ok(seen.length >= minSteps, `at least ${minSteps} progress calls, got ${seen.length}`);
      assert.ok(
        seen.every(([, t]) => t === total),
        'total is the encrypted size throughout',
      );
      assert.equal(seen[0]![0], 0, 'starts at 0');
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]![0] > seen[i - 1]![0], `strictly increasing at ${i}: ${seen[i - 1]![0]} → ${seen[i]![0]}`);
      assert.deepEqual(seen.at(-1), [total, total], 'ends at total');
      assert.equal(seen.filter(([s]) => s === total).length, 1, 'total is reported once');
    },
  };
}

function storedObject(attachmentId: string): Buffer {
  const id = [...rt.s3.objects.keys()].find((k) => k.startsWith(`${rt.attachmentsBucket}/`) && k.includes(attachmentId));
  assert.ok(id, `the bucket holds ${attachmentId}`);
  return rt.s3.objects.get(id)!.body;
}

describe('attachments through the SDK', () => {
  test('A uploads with progress and sends the key inside a message; B downloads and decrypts the same bytes; the bucket holds no plaintext', async () => {
    const [alice, bob] = [await person('Alice'), await person('Bob')];
    const conversationId = await alice.client.directConversation(bob.userId);
    const bobSocket = await socketOf(bob);
    const aliceSocket = await socketOf(alice);

    const { bytes, canary } = fileWithCanary(1024 * 1024 + 123);
    const up = progressLog();
    const uploaded = await alice.client.uploadAttachment(conversationId, bytes, { name: 'holiday.jpg', type: 'image/jpeg', onProgress: up.onProgress });
    const total = bytes.byteLength + 16;
    up.assertWellFormed(total, 10);
    assert.deepEqual(
      { name: uploaded.file.name, type: uploaded.file.type, size: uploaded.file.size },
      { name: 'holiday.jpg', type: 'image/jpeg', size: bytes.byteLength },
    );

    // the PUT went to the storage with the signed headers, never the API's bearer token
    const put = alice.storage.find((r) => r.method === 'PUT')!;
    assert.equal(put.headers['Content-Length'], String(total));
    assert.equal(put.headers['Content-Type'], 'application/octet-stream');
    assert.ok(!Object.keys(put.headers).some((h) => h.toLowerCase() === 'authorization'));
    assert.ok(alice.calls.includes(`POST /api/attachments/${uploaded.attachmentId}/complete`));
    const stored = storedObject(uploaded.attachmentId);
    assert.equal(stored.byteLength, total, 'the whole blob arrived, under its signed Content-Length');
    assert.ok(!stored.includes(canary), 'the bucket holds ciphertext only');

    const ack = await alice.client.sendDirectMessage(bob.userId, composeMessage('from the beach', [uploaded]), alice.keys, {
      socket: aliceSocket.ws,
      attachmentIds: [uploaded.attachmentId],
    });
    assert.equal(ack.conversationId, conversationId);

    const frame = await bobSocket.next('message');
    assert.deepEqual(frame.attachmentIds, [uploaded.attachmentId], 'the push names the attachment');
    assert.ok(!JSON.stringify(frame).includes(uploaded.file.key), 'the key is not in the clear');
    const content = parseMessage((await bob.client.openDirectMessage(frame, bob.keys))!);
    assert.equal(content.text, 'from the beach');
    assert.deepEqual(content.files, [uploaded]);

    const down = progressLog();
    const got = await bob.client.downloadAttachment(content.files[0]!.attachmentId, content.files[0]!.file, { onProgress: down.onProgress });
    assert.deepEqual(got, bytes);
    down.assertWellFormed(total, 2);
    assert.ok(!bob.storage.some((r) => Object.keys(r.headers).some((h) => h.toLowerCase() === 'authorization')));

    // from history too, and the sender's own copy opens for the sender
    const history = await bob.client.request('GET', `/api/conversations/${conversationId}/messages`);
    assert.deepEqual(history.messages[0].attachmentIds, [uploaded.attachmentId]);
    assert.equal(parseMessage((await alice.client.openDirectMessage(history.messages[0], alice.keys))!).text, 'from the beach');
  });

  test('a byte flipped in the bucket: downloadAttachment and decryptFile throw AttachmentTampered (digest) and return nothing', async () => {
    const [alice, bob] = [await person('Alice'), await person('Bob')];
    const conversationId = await alice.client.directConversation(bob.userId);
    const { bytes } = fileWithCanary(50_000);
    const uploaded = await alice.client.uploadAttachment(conversationId, bytes);
    await alice.client.sendDirectMessage(bob.userId, composeMessage('', [uploaded]), alice.keys, { attachmentIds: [uploaded.attachmentId] });
    assert.deepEqual(await bob.client.downloadAttachment(uploaded.attachmentId, uploaded.file), bytes, 'intact first');

    storedObject(uploaded.attachmentId)[1000]! ^= 0x40;
    await assert.rejects(bob.client.downloadAttachment(uploaded.attachmentId, uploaded.file), (e) => e instanceof AttachmentTampered && e.reason === 'digest');
    const link = await bob.client.request('GET', `/api/attachments/${uploaded.attachmentId}`);
    const blob = new Uint8Array(await (await fetch(link.download.url)).arrayBuffer());
    await assert.rejects(decryptFile(blob, uploaded.file), AttachmentTampered);

    // a key that is not this file's (another file's FileKey, same size): its digest does not match either
    const other = await alice.client.uploadAttachment(conversationId, fileWithCanary(50_000).bytes);
    await assert.rejects(bob.client.downloadAttachment(uploaded.attachmentId, other.file), (e) => e instanceof AttachmentTampered && e.reason === 'digest');
    // a FileKey announcing another size is refused before anything is downloaded
    const before = bob.storage.length;
    await assert.rejects(
      bob.client.downloadAttachment(uploaded.attachmentId, { ...uploaded.file, size: 49_999 }),
      (e) => e instanceof AttachmentTampered && e.reason === 'size',
    );
    assert.equal(bob.storage.length, before);
  });

  test('a group of three: one upload, the key sealed to the group, both other members download and decrypt it', async () => {
    const [alice, bob, carol] = [await person('Alice'), await person('Bob'), await person('Carol')];
    const groupId = await alice.client.createGroup('files', [bob.userId, carol.userId]);
    for (const p of [bob, carol]) await p.client.acceptInvitation(groupId);
    const { bytes } = fileWithCanary(200_000);
    const uploaded = await alice.client.uploadAttachment(groupId, bytes, { name: 'minutes.pdf', type: 'application/pdf' });
    await alice.client.sendGroupMessage(groupId, composeMessage('minutes attached', [uploaded]), alice.keys, { attachmentIds: [uploaded.attachmentId] });

    for (const p of [bob, carol]) {
      const { messages } = await p.client.request('GET', `/api/conversations/${groupId}/messages`);
      const message = messages.find((m: any) => m.attachmentIds);
      assert.deepEqual(message.attachmentIds, [uploaded.attachmentId]);
      const { text, files } = parseMessage((await p.client.openGroupMessage(message, p.keys))!);
      assert.equal(text, 'minutes attached');
      assert.equal(files[0]!.file.name, 'minutes.pdf');
      assert.deepEqual(await p.client.downloadAttachment(files[0]!.attachmentId, files[0]!.file), bytes);
    }
  });

  test('with XMLHttpRequest (browsers) the upload follows upload.onprogress and leaves Content-Length to the browser', async () => {
    const [alice, bob] = [await person('Alice'), await person('Bob')];
    const conversationId = await alice.client.directConversation(bob.userId);
    const set: Record<string, string> = {};
    let sent = 0;
    // a stand-in with XHR's surface that really PUTs (fetch sets Content-Length from the body, as a browser does)
    class FakeXhr {
      status = 0;
      responseText = '';
      upload: { onprogress: ((e: { loaded: number }) => void) | null } = { onprogress: null };
      onload: (() => void) | null = null;
      onerror: (() => void) | null = null;
      onabort: (() => void) | null = null;
      #method = '';
      #url = '';
      open(method: string, url: string) {
        [this.#method, this.#url] = [method, url];
      }
      setRequestHeader(name: string, value: string) {
        set[name] = value;
      }
      abort() {}
      send(body: Uint8Array) {
        sent++;
        for (const part of [0.25, 0.5, 0.5, 1]) this.upload.onprogress?.({ loaded: Math.floor(body.byteLength * part) });
        fetch(this.#url, { method: this.#method, headers: set, body }).then(
          async (res) => {
            [this.status, this.responseText] = [res.status, await res.text()];
            this.onload?.();
          },
          () => this.onerror?.(),
        );
      }
    }
    const g = globalThis as { XMLHttpRequest?: unknown };
    g.XMLHttpRequest = FakeXhr;
    try {
      const { bytes } = fileWithCanary(40_000);
      const up = progressLog();
      const uploaded = await alice.client.uploadAttachment(conversationId, bytes, { onProgress: up.onProgress });
      assert.equal(sent, 1);
      assert.equal(alice.storage.length, 0, 'no fetch to the storage: XHR carried it');
      assert.deepEqual(Object.keys(set), ['Content-Type'], 'the forbidden Content-Length header is not set on XHR');
      const total = bytes.byteLength + 16;
      assert.deepEqual(
        up.seen.map(([s]) => s),
        [0, Math.floor(total / 4), Math.floor(total / 2), total - 1, total],
        'the XHR events, the last held back until the storage answered',
      );
      await alice.client.sendDirectMessage(bob.userId, composeMessage('xhr', [uploaded]), alice.keys, { attachmentIds: [uploaded.attachmentId] });
      assert.deepEqual(await bob.client.downloadAttachment(uploaded.attachmentId, uploaded.file), bytes);
    } finally {
      delete g.XMLHttpRequest;
    }
  });

  test('an aborted upload rejects with the abort reason and is never completed', async () => {
    const [alice, bob] = [await person('Alice'), await person('Bob')];
    const conversationId = await alice.client.directConversation(bob.userId);
    const controller = new AbortController();
    const seen: number[] = [];
    await assert.rejects(
      alice.client.uploadAttachment(conversationId, new Uint8Array(2 * 1024 * 1024), {
        signal: controller.signal,
        onProgress: (sent) => {
          seen.push(sent);
          if (sent > 0) controller.abort();
        },
      }),
      (e: any) => e.name === 'AbortError',
    );
    assert.ok(
      seen.every((s) => s < 2 * 1024 * 1024 + 16),
      'never reported complete',
    );
    assert.ok(!alice.calls.some((c) => c.endsWith('/complete')), 'no complete call');
    await assert.rejects(
      alice.client.uploadAttachment(conversationId, new Uint8Array(10), { signal: AbortSignal.abort() }),
      (e: any) => e.name === 'AbortError',
    );
  });
});
