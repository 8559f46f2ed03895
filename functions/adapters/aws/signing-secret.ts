// The auth secret in AWS, read through the AWS Parameters and Secrets Lambda Extension: a layer on
// every function granted the secret (lib/constructs/route-function.ts) that serves Secrets Manager
// on localhost with its own cache. Routes bundle no Secrets Manager client (~14 KB and its cold
// start); the request is authenticated with the function's own session token, and the read is
// still authorized by the function role's grant on this one secret. Our derived keys are cached
// for 5 minutes on top (signing-keys-cache.ts), so a rotation reaches warm functions.
import type { SigningKeysPort } from '#core/ports.ts';
import { cachedSigningKeys, parseSecret } from '../signing-keys-cache.ts';

/** The extension's default port (PARAMETERS_SECRETS_EXTENSION_HTTP_PORT). */
export const EXTENSION_PORT = 2773;

export function extensionSigningKeys(arn: string, now: () => number, port = EXTENSION_PORT): SigningKeysPort {
  return cachedSigningKeys(async () => {
    const res = await fetch(`http://localhost:${port}/secretsmanager/get?secretId=${encodeURIComponent(arn)}`, {
      // the extension accepts only callers that hold this execution environment's session token
      // eslint-disable-next-line no-restricted-properties -- a credential of this execution environment, not configuration
      headers: { 'X-Aws-Parameters-Secrets-Token': process.env.AWS_SESSION_TOKEN ?? '' },
      signal: AbortSignal.timeout(3000),
    });
    if (!res.ok) throw new Error(`the secrets extension answered ${res.status}`);
    const body = (await res.json()) as { SecretString?: string };
    return parseSecret(body.SecretString ?? '{}');
  }, now);
}
