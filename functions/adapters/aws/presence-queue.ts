// $disconnect's side of the offline grace in AWS: one SQS message per user whose last socket closed,
// delayed by the grace (per-message DelaySeconds, so the grace is configuration, not infrastructure).
// The consumer (functions/queue/settle-offline.ts) announces "offline" only if the user stayed away.
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { PresenceQueuePort } from '#core/ports.ts';

export function sqsPresenceQueue(queueUrl: string, region: string): PresenceQueuePort {
  let client: SQSClient | undefined;
  return {
    async offlineLater(notice, delaySeconds) {
      client ??= new SQSClient({ region, maxAttempts: 3 });
      const body = { userId: notice.userId, epoch: notice.epoch, lastSeen: notice.lastSeen };
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body), DelaySeconds: delaySeconds }));
    },
  };
}
