// OTP delivery in AWS: SES for email, SNS for SMS. Clients are created once, on first use; only the
// OTP queue's worker (functions/queue/deliver-otp.ts, the manifest's `notify`) bundles this module.
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { NotifierPort } from '#core/ports.ts';
import { otpText } from '#core/otp.ts';

export function awsNotifier(
  clients: { ses: Pick<SESClient, 'send'>; sns: Pick<SNSClient, 'send'> } | { region: string },
  from: string,
  now: () => number,
): NotifierPort {
  let ses: Pick<SESClient, 'send'> | undefined = 'ses' in clients ? clients.ses : undefined;
  let sns: Pick<SNSClient, 'send'> | undefined = 'sns' in clients ? clients.sns : undefined;
  const region = 'region' in clients ? clients.region : undefined;
  return {
    async sendOtp(m) {
      if (m.channel === 'email') {
        ses ??= new SESClient({ region });
        await ses.send(
          new SendEmailCommand({
            Source: from,
            Destination: { ToAddresses: [m.destination] },
            Message: { Subject: { Data: `NexChat code: ${m.code}`, Charset: 'UTF-8' }, Body: { Text: { Data: otpText(m, now()), Charset: 'UTF-8' } } },
          }),
        );
      } else {
        sns ??= new SNSClient({ region });
        await sns.send(
          new PublishCommand({
            PhoneNumber: m.destination,
            Message: otpText(m, now()),
            MessageAttributes: { 'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' } },
          }),
        );
      }
    },
  };
}
