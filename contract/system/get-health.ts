// GET /api/health: liveness and DynamoDB reachability.
import * as z from 'zod/mini';
import { httpContract } from '../route.ts';

export const healthReport = z.object({
  status: z.enum(['ok', 'degraded']),
  stage: z.string(),
  time: z.iso.datetime(),
  dynamodb: z.object({ reachable: z.boolean(), latencyMs: z.number().check(z.nonnegative()) }),
});
export type HealthReport = z.infer<typeof healthReport>;

export const getHealth = httpContract({
  id: 'GetHealth',
  method: 'GET',
  path: '/api/health',
  access: 'public',
  summary: 'Liveness and DynamoDB reachability',
  input: { query: z.strictObject({}) },
  output: { 200: healthReport, 503: healthReport },
});
