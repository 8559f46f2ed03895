// The signing secret's shape and its per-container cache (5 minutes, so a rotation reaches warm
// functions), shared by the Secrets Manager source (AWS) and the dev secrets file (laptop).
import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { deriveKeys, type AuthKeys, type SecretValue } from '#core/signing-keys.ts';
import type { SigningKeysPort } from '#core/ports.ts';

const secretSchema = z.object({
  kid: z.string().check(z.minLength(1), z.maxLength(64)),
  master: z.string().check(z.minLength(32)),
  previous: z.optional(z.object({ kid: z.string().check(z.minLength(1)), master: z.string().check(z.minLength(32)) })),
});

export function parseSecret(text: string): SecretValue {
  return secretSchema.parse(JSON.parse(text));
}

const REFRESH_MS = 5 * 60 * 1000;

export function cachedSigningKeys(load: () => Promise<SecretValue>, now: () => number): SigningKeysPort {
  let cached: { at: number; keys: Promise<AuthKeys> } | undefined;
  return {
    current() {
      const t = now();
      if (!cached || t - cached.at > REFRESH_MS) {
        const keys = load().then(deriveKeys);
        cached = { at: t, keys };
        keys.catch(() => (cached = undefined));
      }
      return cached.keys;
    },
  };
}

/** The laptop's dev secrets file (written by `npm start`); config refuses it inside Lambda. */
export function devFileSigningKeys(file: string, now: () => number): SigningKeysPort {
  return cachedSigningKeys(async () => parseSecret(readFileSync(file, 'utf8')), now);
}
