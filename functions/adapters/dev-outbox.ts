// OTP delivery on the laptop: one JSON line per message in the dev outbox file (NEXCHAT_OUTBOX_FILE),
// echoed to the console when asked. Config refuses the outbox inside Lambda.
import { appendFile } from 'node:fs/promises';
import type { NotifierPort } from '#core/ports.ts';

export function devOutbox(file: string, echo: boolean, now: () => number): NotifierPort {
  return {
    async sendOtp(m) {
      const line = {
        channel: m.channel,
        destination: m.destination,
        purpose: m.purpose,
        code: m.code,
        sentAt: new Date(now()).toISOString(),
        expiresAt: new Date(m.expiresAt).toISOString(),
      };
      await appendFile(file, `${JSON.stringify(line)}\n`, { mode: 0o600 });
      if (echo) console.log(`[dev outbox] ${m.channel} to ${m.destination} (${m.purpose}): code ${m.code}`);
    },
  };
}
