// The laptop's dev outbox: the file keeps every OTP message whole (tests and developers read codes
// from it), while the console echo of `npm start` shows only a masked destination.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { devOutbox, maskDestination } from '../../functions/adapters/dev-outbox.ts';

const now = 1_800_000_000_000;

/** What console.log printed while `fn` ran. */
async function consoleOutput(fn: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  try {
    await fn();
  } finally {
    console.log = original;
  }
  return lines.join('\n');
}

describe('maskDestination', () => {
  const cases: [channel: 'email' | 'sms', destination: string, masked: string][] = [
    ['email', 'ada@example.com', 'a***@example.com'],
    ['email', 'a@example.com', 'a***@example.com'],
    ['email', 'first.last+tag@mail.example.co.uk', 'f***@mail.example.co.uk'],
    ['email', 'odd"@"quoted@example.com', 'o***@example.com'],
    ['email', 'no-at-sign', '***'],
    ['email', '@example.com', '***'],
    ['sms', '+14155550123', '+1415***0123'],
    ['sms', '+447700900123', '+4477***0123'],
    ['sms', '+4930123456', '+493***3456'],
    ['sms', '+35312345', '+353***45'],
    ['sms', '+12345', '+***45'],
    ['sms', '+1234', '***'],
    ['sms', '', '***'],
  ];
  for (const [channel, destination, masked] of cases) {
    test(`${channel} ${JSON.stringify(destination)} → ${masked}`, () => {
      assert.equal(maskDestination(channel, destination), masked);
    });
  }

  test('never shows a whole phone number: at least three of its digits stay hidden (all of a shorter one)', () => {
    for (let digits = 1; digits <= 15; digits++) {
      const phone = `+${'123456789012345'.slice(0, digits)}`;
      const masked = maskDestination('sms', phone);
      assert.notEqual(masked, phone);
      const shown = masked.replace('***', '').replace('+', '').length;
      assert.ok(shown <= Math.max(0, digits - 3), `${phone} → ${masked} shows ${shown} of ${digits} digits`);
    }
  });
});

describe('devOutbox', () => {
  test('the echo shows the code and a masked destination; the file keeps the full destination', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'nexchat-outbox-')), 'outbox.jsonl');
    const outbox = devOutbox(file, true, () => now);
    const printed = await consoleOutput(async () => {
      await outbox.sendOtp({
        deliver: true,
        channel: 'email',
        destination: 'ada.lovelace@example.com',
        purpose: 'register',
        code: '042137',
        expiresAt: now + 300_000,
      });
      await outbox.sendOtp({ deliver: true, channel: 'sms', destination: '+14155550123', purpose: 'login', code: '918273', expiresAt: now + 300_000 });
    });
    assert.equal(
      printed,
      ['[dev outbox] email to a***@example.com (register): code 042137', '[dev outbox] sms to +1415***0123 (login): code 918273'].join('\n'),
    );
    assert.doesNotMatch(printed, /lovelace|5550123/);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => [l.channel, l.destination, l.purpose, l.code, l.sentAt, l.expiresAt]),
      [
        ['email', 'ada.lovelace@example.com', 'register', '042137', new Date(now).toISOString(), new Date(now + 300_000).toISOString()],
        ['sms', '+14155550123', 'login', '918273', new Date(now).toISOString(), new Date(now + 300_000).toISOString()],
      ],
    );
  });

  test('without echo nothing is printed', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'nexchat-outbox-')), 'outbox.jsonl');
    const printed = await consoleOutput(() =>
      devOutbox(file, false, () => now).sendOtp({
        deliver: true,
        channel: 'email',
        destination: 'ada@example.com',
        purpose: 'login',
        code: '111111',
        expiresAt: now + 1,
      }),
    );
    assert.equal(printed, '');
  });
});
