// The auth secret: from Secrets Manager in AWS (AUTH_SECRET_ARN), from the dev secrets file on the
// laptop (refused inside Lambda by config). Fetched once per container, refreshed every 5 minutes
// so a rotation reaches warm functions.
import { readFileSync } from 'node:fs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { config } from '#core/config.ts';
import { deriveKeys, type AuthKeys } from '#core/keys.ts';

const secretSchema = z.object({
  kid: z.string().min(1).max(64),
  master: z.string().min(32),
  previous: z.object({ kid: z.string().min(1), master: z.string().min(32) }).optional(),
});

const REFRESH_MS = 5 * 60 * 1000;
let cached: { at: number; keys: Promise<AuthKeys> } | undefined;
let client: SecretsManagerClient | undefined;

async function load(): Promise<AuthKeys> {
  if (config.secrets.devFile) return deriveKeys(secretSchema.parse(JSON.parse(readFileSync(config.secrets.devFile, 'utf8'))));
  if (!config.secrets.arn) throw new Error('AUTH_SECRET_ARN is not set: this function has no grant on the auth secret');
  client ??= new SecretsManagerClient({ region: config.region });
  const out = await client.send(new GetSecretValueCommand({ SecretId: config.secrets.arn }));
  return deriveKeys(secretSchema.parse(JSON.parse(out.SecretString ?? '{}')));
}

export function authKeys(now = Date.now()): Promise<AuthKeys> {
  if (!cached || now - cached.at > REFRESH_MS) {
    const keys = load();
    cached = { at: now, keys };
    keys.catch(() => (cached = undefined));
  }
  return cached.keys;
}
