// The request path's side of OTP delivery in AWS: one SQS message per code, deliverable or not (so
// every request makes the same call), on an encrypted queue with a short retention (a code is
// useless after its TTL). The consumer (functions/queue/deliver-otp.ts)
// sends it through SES or SNS. Only routes that issue codes bundle this client (~24 KB, against
// ~60 KB for the SES and SNS clients with their XML protocol).
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { NotifierPort } from '#core/ports.ts';

export function sqsOtpQueue(queueUrl: string, region: string): NotifierPort {
  let client: SQSClient | undefined;
  return {
    async sendOtp(m) {
      client ??= new SQSClient({ region, maxAttempts: 3 });
      const body = { deliver: m.deliver, channel: m.channel, destination: m.destination, purpose: m.purpose, code: m.code, expiresAt: m.expiresAt };
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
    },
  };
}
