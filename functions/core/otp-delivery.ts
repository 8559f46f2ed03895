// Delivering queued one-time codes. The request path only enqueues, one message per request, known
// identifier or not (so it does the same work either way); this runs in the queue's consumer: each
// message is checked, undeliverable ones (`deliver: false`) and expired codes are dropped, and a
// failed send is reported back so the queue retries just that message and, after its last
// attempt, moves it to the dead-letter queue.
import { otpMessage } from '#contract/internal/otp-message.ts';
import type { Clock, MetricsPort, NotifierPort, SecurityEventsPort } from './ports.ts';
import { parseQueued } from './queued.ts';

export interface DeliveryWorkerDeps {
  notifier: NotifierPort;
  clock: Clock;
  events: SecurityEventsPort;
  /** OtpsSent by channel: codes handed to SES or SNS (dropped, expired and failed ones are not). */
  metrics: MetricsPort;
}

export interface QueuedMessage {
  id: string;
  body: string;
  /** How many times the queue has handed this message out (1 on the first attempt). */
  receiveCount: number;
}

/** Sends every message of a batch; returns the ids of those to retry. Never logs a code or a destination. */
export async function deliverOtps(deps: DeliveryWorkerDeps, batch: readonly QueuedMessage[]): Promise<string[]> {
  const retry: string[] = [];
  await Promise.all(
    batch.map(async (m) => {
      const message = parseQueued(otpMessage, m.body);
      if (!message.success) {
        deps.events.record('otp_message_malformed', { messageId: m.id }); // retrying cannot fix it
        return;
      }
      // Queued only so that known and unknown identifiers cost the request the same: dropped
      // without a send and without an event (it holds no address to log anyway).
      if (!message.data.deliver) return;
      if (message.data.expiresAt <= deps.clock.now()) {
        deps.events.record('otp_expired_in_queue', { messageId: m.id, channel: message.data.channel, purpose: message.data.purpose });
        return;
      }
      try {
        await deps.notifier.sendOtp(message.data);
        deps.metrics.count('OtpsSent', { channel: message.data.channel });
      } catch (error) {
        deps.events.record('otp_delivery_failed', {
          messageId: m.id,
          channel: message.data.channel,
          attempt: m.receiveCount,
          errorName: (error as Error)?.name,
        });
        retry.push(m.id);
      }
    }),
  );
  return retry;
}
