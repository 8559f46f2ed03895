// The auth secret through the Parameters and Secrets extension's localhost API: a real HTTP server
// stands in for the extension (the only thing that cannot run here), and the adapter must send the
// session token, parse the secret, cache the derived keys for 5 minutes and refuse bad answers.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { extensionSigningKeys } from '../../functions/adapters/aws/signing-secret.ts';

const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nexchat-auth-AbCdEf';
const requests: { url: string; token: string | undefined }[] = [];
let answer: { status: number; body: unknown } = { status: 200, body: { SecretString: JSON.stringify({ kid: 'k1', master: 'x'.repeat(40) }) } };
const server = createServer((req, res) => {
  requests.push({ url: req.url ?? '', token: req.headers['x-aws-parameters-secrets-token'] as string | undefined });
  res.writeHead(answer.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(answer.body));
});
let port = 0;

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  process.env.AWS_SESSION_TOKEN = 'session-token-of-this-environment';
});
after(() => server.close());

describe('signing keys from the secrets extension', () => {
  test('asks for the secret by ARN with the session token, derives the keys, and caches them for 5 minutes', async () => {
    let now = 1_000_000;
    const keys = extensionSigningKeys(arn, () => now, port);
    const first = await keys.current();
    assert.equal(first.current.kid, 'k1');
    assert.equal(first.current.accessKey.length, 32);
    assert.equal(requests.length, 1);
    assert.equal(requests[0]!.url, `/secretsmanager/get?secretId=${encodeURIComponent(arn)}`);
    assert.equal(requests[0]!.token, 'session-token-of-this-environment');
    now += 4 * 60_000;
    assert.equal(await keys.current(), first, 'cached within 5 minutes');
    assert.equal(requests.length, 1);
    now += 2 * 60_000;
    answer = { status: 200, body: { SecretString: JSON.stringify({ kid: 'k2', master: 'y'.repeat(40), previous: { kid: 'k1', master: 'x'.repeat(40) } }) } };
    const rotated = await keys.current();
    assert.equal(rotated.current.kid, 'k2', 'a rotation reaches a warm function');
    assert.ok(rotated.byKid.has('k1'), 'tokens signed with the previous key still verify');
  });

  test('an error answer or a malformed secret fails, and the next call tries again', async () => {
    answer = { status: 400, body: { message: 'bad token' } };
    const keys = extensionSigningKeys(arn, () => 0, port);
    await assert.rejects(keys.current(), /answered 400/);
    answer = { status: 200, body: { SecretString: JSON.stringify({ kid: 'k', master: 'too short' }) } };
    await assert.rejects(keys.current());
    answer = { status: 200, body: { SecretString: JSON.stringify({ kid: 'k3', master: 'z'.repeat(40) }) } };
    assert.equal((await keys.current()).current.kid, 'k3');
  });
});
