// OTP delivery: SES for email and SNS for SMS in AWS; the dev outbox on the laptop (one JSON line
// per message in NEXCHAT_OUTBOX_FILE, echoed to the console when NEXCHAT_OUTBOX_ECHO is set).
// Config refuses the outbox inside Lambda. Clients are created once, on first use.
import { appendFile } from 'node:fs/promises';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { config } from '#core/config.ts';
import type { NotifierPort, OtpMessage } from '#core/identity-ports.ts';

function text(m: OtpMessage): string {
  const minutes = Math.max(1, Math.round((m.expiresAt - Date.now()) / 60_000));
  return `Your NexChat code is ${m.code}. It expires in ${minutes} minutes. Never share it with anyone.`;
}

export function devOutbox(file: string, echo: boolean): NotifierPort {
  return {
    async sendOtp(m) {
      const line = { channel: m.channel, destination: m.destination, purpose: m.purpose, code: m.code, sentAt: new Date().toISOString(), expiresAt: new Date(m.expiresAt).toISOString() };
      await appendFile(file, `${JSON.stringify(line)}\n`, { mode: 0o600 });
      if (echo) console.log(`[dev outbox] ${m.channel} to ${m.destination} (${m.purpose}): code ${m.code}`);
    },
  };
}

export function awsNotifier(ses: Pick<SESClient, 'send'>, sns: Pick<SNSClient, 'send'>, from: string): NotifierPort {
  return {
    async sendOtp(m) {
      if (m.channel === 'email') {
        await ses.send(
          new SendEmailCommand({
            Source: from,
            Destination: { ToAddresses: [m.destination] },
            Message: { Subject: { Data: `NexChat code: ${m.code}`, Charset: 'UTF-8' }, Body: { Text: { Data: text(m), Charset: 'UTF-8' } } },
          }),
        );
      } else {
        await sns.send(
          new PublishCommand({
            PhoneNumber: m.destination,
            Message: text(m),
            MessageAttributes: { 'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' } },
          }),
        );
      }
    },
  };
}

let instance: NotifierPort | undefined;
export function notifier(): NotifierPort {
  instance ??= config.outboxFile
    ? devOutbox(config.outboxFile, process.env.NEXCHAT_OUTBOX_ECHO === 'true')
    : awsNotifier(new SESClient({ region: config.region }), new SNSClient({ region: config.region }), config.otp.sesFromAddress);
  return instance;
}
