// The auth secret from Secrets Manager (AUTH_SECRET_ARN): the master from which token-signing keys
// and the OTP pepper are derived. Fetched once per container, refreshed every 5 minutes so a
// rotation reaches warm functions. Only routes granted the secret bundle this module.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SigningKeysPort } from '#core/ports.ts';
import { cachedSigningKeys, parseSecret } from '../signing-keys-cache.ts';

export function secretsManagerSigningKeys(arn: string, region: string, now: () => number): SigningKeysPort {
  let client: SecretsManagerClient | undefined;
  return cachedSigningKeys(async () => {
    client ??= new SecretsManagerClient({ region });
    const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    return parseSecret(out.SecretString ?? '{}');
  }, now);
}
