// The OTP queue's consumer: delivers each code through SES (email) or SNS (SMS) and reports the
// messages that failed, so SQS retries only those (ReportBatchItemFailures) and dead-letters a
// message after its last attempt. One JSON log line per batch, never a code or a destination; the
// codes handed to SES/SNS are counted (OtpsSent by channel) and published once per batch.
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deliverOtps } from '#core/otp-delivery.ts';
import { logger } from '#middleware/logger.ts';
import { publishMetrics } from '#middleware/metrics.ts';
import { deliveryWorker } from '#wiring/otp-delivery.ts';

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(publishMetrics())
  .handler(async (event) => {
    const batch = event.Records.map((r) => ({ id: r.messageId, body: r.body, receiveCount: Number(r.attributes?.ApproximateReceiveCount ?? 1) }));
    const retry = await deliverOtps(deliveryWorker(), batch);
    logger.info('otp delivery', { messages: batch.length, retried: retry.length });
    return { batchItemFailures: retry.map((itemIdentifier) => ({ itemIdentifier })) };
  });
