// Composition root of $disconnect: the socket sets and the presence queue that carries a user's
// offline through its grace (SQS in AWS, an in-process queue on the laptop). Apart from realtime.ts
// so that only $disconnect bundles the SQS client.
import { sqsPresenceQueue } from '#adapters/aws/presence-queue.ts';
import type { PresenceQueuePort } from '#core/ports.ts';
import type { DepartureDeps } from '#core/realtime.ts';
import { clock, config } from './platform.ts';
import { connections, socketSets } from './realtime.ts';

let queuePort: PresenceQueuePort | undefined;
let localQueue: PresenceQueuePort | undefined;

/** The laptop runtime's in-process presence queue (local/queue.ts). Refused inside Lambda. */
export function useLocalPresenceQueue(queue: PresenceQueuePort): void {
  if (config().inLambda) throw new Error('useLocalPresenceQueue() is for the laptop runtime only');
  localQueue = queue;
}

function presenceQueue(): PresenceQueuePort {
  if (queuePort) return queuePort;
  const c = config();
  if (c.presenceQueueUrl) return (queuePort = sqsPresenceQueue(c.presenceQueueUrl, c.region));
  if (localQueue) return localQueue;
  throw new Error('PRESENCE_QUEUE_URL is not set: this function has no right to queue presence');
}

/** The connections table, @connections (to prune dead ids) and the presence queue; no other table. */
export function departure(eventEndpoint?: string): DepartureDeps {
  return {
    clock: clock(),
    connections: connections(eventEndpoint),
    socketSets: socketSets(eventEndpoint),
    presenceQueue: presenceQueue(),
    offlineGraceSeconds: config().realtime.presenceOfflineGraceSeconds,
  };
}
