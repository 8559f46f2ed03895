// Composition root of the OTP delivery worker: SES and SNS in AWS, the dev outbox on the laptop.
import { awsNotifier } from '#adapters/aws/otp-notifier.ts';
import { devOutbox } from '#adapters/dev-outbox.ts';
import type { DeliveryWorkerDeps } from '#core/otp-delivery.ts';
import type { NotifierPort } from '#core/ports.ts';
import { events } from './auth.ts';
import { metrics } from './metrics.ts';
import { clock, config } from './platform.ts';

let notifierPort: NotifierPort | undefined;

export function deliveryWorker(): DeliveryWorkerDeps {
  const c = config();
  const now = () => clock().now();
  notifierPort ??= c.outboxFile ? devOutbox(c.outboxFile, c.outboxEcho, now) : awsNotifier({ region: c.region }, c.otp.sesFromAddress, now);
  return { notifier: notifierPort, clock: clock(), events, metrics: metrics() };
}
