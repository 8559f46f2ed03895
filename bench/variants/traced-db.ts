// Bench variant of functions/adapters/dynamodb/db.ts: the same client, captured by Powertools Tracer
// (an X-Ray subsegment per DynamoDB call). bench/observability.ts swaps it in; it never ships.
import { Tracer } from '@aws-lambda-powertools/tracer';
import { createDb as createPlainDb } from '../../functions/adapters/dynamodb/db.ts';

export * from '../../functions/adapters/dynamodb/db.ts';

/** BENCH_TRACER=defaults keeps Tracer's defaults (it also patches http, https and fetch). */
const tracer = new Tracer({ serviceName: 'nexchat', ...(process.env.BENCH_TRACER === 'defaults' ? {} : { captureHTTPsRequests: false }) });

export function createDb(config: Parameters<typeof createPlainDb>[0]): ReturnType<typeof createPlainDb> {
  const db = createPlainDb(config);
  tracer.captureAWSv3Client(db.client);
  return db;
}
