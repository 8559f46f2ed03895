// Dev secrets for the laptop: generated on first start under the data dir (mode 0600), reused after.
// Lambda never reads this file (config refuses NEXCHAT_DEV_SECRETS_FILE there).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function ensureDevSecrets(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'secrets.json');
  if (!existsSync(file)) {
    const value = { kid: `dev-${randomBytes(4).toString('hex')}`, master: randomBytes(48).toString('base64url') };
    writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  }
  return file;
}
