// OTP delivery on the laptop: one JSON line per message in the dev outbox file (NEXCHAT_OUTBOX_FILE),
// echoed to the console when asked. Config refuses the outbox inside Lambda. The file keeps the full
// destination (tests and developers read codes from it); the console, which ends up in terminal
// scrollback, screen shares and CI logs, only shows a masked one.
import { appendFile } from 'node:fs/promises';
import type { NotifierPort, OtpMessage } from '#core/ports.ts';

/**
 * Enough of a destination to tell one's own test addresses apart, never the whole of it:
 * `ada@example.com` → `a***@example.com`, `+14155550123` → `+1415***0123`.
 */
export function maskDestination(channel: OtpMessage['channel'], destination: string): string {
  if (channel === 'email') {
    const at = destination.lastIndexOf('@');
    return at > 0 ? `${destination[0]}***${destination.slice(at)}` : '***';
  }
  // A phone: the country code and a few digits, then the last four; at least three digits hidden.
  const tail = destination.length >= 10 ? 4 : 2;
  const head = Math.min(5, destination.length - tail - 3);
  return head > 0 ? `${destination.slice(0, head)}***${destination.slice(-tail)}` : '***';
}

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
      if (echo) console.log(`[dev outbox] ${m.channel} to ${maskDestination(m.channel, m.destination)} (${m.purpose}): code ${m.code}`);
    },
  };
}
