// The attachment sweeper, run on a schedule (EventBridge every 15 minutes; the laptop runtime runs it
// too): deletes never-shared uploads inside 24 hours of their start, and deleted accounts' blobs and
// records. One JSON log line per run, counts only.
import middy from '@middy/core';
import { sweep } from '#core/attachments.ts';
import { logger } from '#middleware/logger.ts';
import { attachmentDeps } from '#wiring/attachments.ts';

export const handler = middy<unknown, void>().handler(async () => {
  const result = await sweep(attachmentDeps());
  logger.info('attachments swept', { ...result });
});
