// The SDK's file encryption without a runtime: encryptFile()/decryptFile() round trips, a fresh key per
// file, the digest checked before decryption, a wrong key, nonce, digest or size refused with the typed
// error, and the message content that carries file keys (composeMessage()/parseMessage()).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import nacl from 'tweetnacl';
import { AttachmentTampered, composeMessage, decryptFile, encryptFile, parseMessage, type FileKey } from '../../client/index.ts';

const bytesOf = (text: string) => new TextEncoder().encode(text);
const tampered = (reason: AttachmentTampered['reason']) => (e: unknown) => e instanceof AttachmentTampered && e.reason === reason;

describe('encryptFile / decryptFile', () => {
  test('a round trip gives the same bytes; the blob holds no plaintext and the FileKey describes it', async () => {
    const canary = `CANARY-${crypto.randomUUID()}`;
    const plain = bytesOf(`${canary} ${'x'.repeat(10_000)}`);
    const { blob, file } = await encryptFile(plain, { name: 'notes.txt', type: 'text/plain' });
    assert.equal(blob.byteLength, plain.byteLength + nacl.secretbox.overheadLength);
    assert.ok(!Buffer.from(blob).includes(canary), 'the blob is ciphertext');
    assert.equal(file.size, plain.byteLength);
    assert.equal(file.sha256, createHash('sha256').update(blob).digest('hex'), 'lower-case hex SHA-256 of the blob');
    assert.equal(Buffer.from(file.key, 'base64').length, 32);
    assert.equal(Buffer.from(file.nonce, 'base64').length, 24);
    assert.equal(file.name, 'notes.txt');
    assert.equal(file.type, 'text/plain');
    assert.deepEqual(await decryptFile(blob, file), plain);
  });

  test('every file gets its own key and nonce, also for the same bytes', async () => {
    const plain = bytesOf('same bytes');
    const [a, b] = [await encryptFile(plain), await encryptFile(plain)];
    assert.notEqual(a.file.key, b.file.key);
    assert.notEqual(a.file.nonce, b.file.nonce);
    assert.notDeepEqual(a.blob, b.blob);
    assert.equal('name' in a.file, false, 'no name unless given');
  });

  test('one flipped byte: the digest check refuses it first', async () => {
    const { blob, file } = await encryptFile(bytesOf('pay 100 to Bob'));
    const bad = blob.slice();
    bad[20]! ^= 0x01;
    await assert.rejects(decryptFile(bad, file), tampered('digest'));
  });

  test('a digest that matches a blob the key does not open (a swapped key, or a swapped blob with its digest): secretbox refuses', async () => {
    const { blob, file } = await encryptFile(bytesOf('the real file'));
    const other = await encryptFile(bytesOf('another file'));
    await assert.rejects(decryptFile(blob, { ...file, key: other.file.key }), tampered('decrypt'), 'wrong key');
    await assert.rejects(decryptFile(blob, { ...file, nonce: other.file.nonce }), tampered('decrypt'), 'wrong nonce');
    await assert.rejects(decryptFile(other.blob, { ...file, sha256: other.file.sha256 }), tampered('decrypt'), 'swapped blob and digest');
  });

  test('a wrong digest is refused even when the key would open the blob', async () => {
    const { blob, file } = await encryptFile(bytesOf('fine bytes'));
    await assert.rejects(decryptFile(blob, { ...file, sha256: '0'.repeat(64) }), tampered('digest'));
    assert.deepEqual(await decryptFile(blob, { ...file, sha256: file.sha256.toUpperCase() }), bytesOf('fine bytes'), 'hex case does not matter');
  });

  test('a size other than the plaintext’s is refused', async () => {
    const { blob, file } = await encryptFile(bytesOf('twelve bytes'));
    await assert.rejects(decryptFile(blob, { ...file, size: 11 }), tampered('size'));
  });

  test('a malformed FileKey is a TypeError, not a crash inside tweetnacl', async () => {
    const { blob, file } = await encryptFile(bytesOf('x'));
    for (const bad of [
      { key: 'short' },
      { nonce: Buffer.alloc(23).toString('base64') },
      { sha256: 'abc' },
      { size: -1 },
      { key: '!!!' },
    ] as Partial<FileKey>[]) {
      await assert.rejects(decryptFile(blob, { ...file, ...bad }), TypeError, JSON.stringify(bad));
    }
  });
});

describe('message content with files', () => {
  const file: FileKey = { key: Buffer.alloc(32, 1).toString('base64'), nonce: Buffer.alloc(24, 2).toString('base64'), sha256: 'ab'.repeat(32), size: 5 };

  test('plain text stays plain text (older clients show it as before); files make JSON that parses back', () => {
    assert.equal(composeMessage('hello'), 'hello');
    assert.deepEqual(parseMessage('hello'), { text: 'hello', files: [] });
    const files = [
      { attachmentId: 'at_1', file: { ...file, name: 'a.png', type: 'image/png' } },
      { attachmentId: 'at_2', file },
    ];
    const content = composeMessage('two files', files);
    assert.deepEqual(parseMessage(content), { text: 'two files', files });
  });

  test('JSON without the marker, or a broken entry, is not taken for file keys', () => {
    const json = JSON.stringify({ text: 'hi', files: [{ attachmentId: 'at_1', ...file }] });
    assert.deepEqual(parseMessage(json), { text: json, files: [] }, 'someone typing JSON sends text');
    assert.deepEqual(parseMessage('{not json'), { text: '{not json', files: [] });
    const content = JSON.parse(composeMessage('x', [{ attachmentId: 'at_1', file }]));
    content.files.push({ attachmentId: 'at_2', ...file, key: 'short' }, { ...file }, null);
    assert.deepEqual(
      parseMessage(JSON.stringify(content)).files.map((f) => f.attachmentId),
      ['at_1'],
    );
  });
});

describe('without WebCrypto (React Native has no crypto.subtle or randomUUID)', () => {
  test('files still encrypt, verify and decrypt (SHA-256 from @noble/hashes), and clientMessageIds are v4 UUIDs', async () => {
    const { randomId } = await import('../../client/src/bytes.ts');
    const native = Object.getOwnPropertyDescriptor(globalThis, 'crypto')!;
    const plain = bytesOf('a photo, without WebCrypto');
    const withWebCrypto = await encryptFile(plain);
    Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true });
    try {
      assert.equal(globalThis.crypto, undefined);
      // the same digest as WebCrypto's (and node:crypto's) for the same blob
      const again = await decryptFile(withWebCrypto.blob, withWebCrypto.file);
      assert.deepEqual(again, plain);
      const { blob, file } = await encryptFile(plain);
      assert.equal(file.sha256, createHash('sha256').update(blob).digest('hex'));
      const id = randomId();
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.notEqual(randomId(), id);
      await assert.rejects(decryptFile(blob, { ...file, sha256: withWebCrypto.file.sha256 }), tampered('digest'));
    } finally {
      Object.defineProperty(globalThis, 'crypto', native);
    }
    assert.ok((globalThis as { crypto?: { subtle?: unknown } }).crypto?.subtle, 'WebCrypto is back');
  });
});
