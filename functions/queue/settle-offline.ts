// The presence queue's consumer: each message is a user whose last socket closed one grace ago. The
// offline is claimed conditionally (still no socket, no join since), so a user who came back, and a
// second delivery of the same message, send nothing; only a failed claim (throttled, unreachable) is
// retried. One JSON log line per batch, never more than counts.
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { settleOffline } from '#core/realtime.ts';
import { logger } from '#middleware/logger.ts';
import { offlineWorker } from '#wiring/realtime.ts';

export const handler = middy<SQSEvent, SQSBatchResponse>().handler(async (event) => {
  const batch = event.Records.map((r) => ({ id: r.messageId, body: r.body, receiveCount: Number(r.attributes?.ApproximateReceiveCount ?? 1) }));
  const { retry, ...counts } = await settleOffline(offlineWorker(), batch);
  logger.info('presence offline', { messages: batch.length, retried: retry.length, ...counts });
  return { batchItemFailures: retry.map((itemIdentifier) => ({ itemIdentifier })) };
});
