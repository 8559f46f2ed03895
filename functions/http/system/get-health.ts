// GET /api/health: 200 when DynamoDB answers, 503 (same body shape) when it does not.
import { config } from '#core/config.ts';
import { checkHealth } from '#core/health.ts';
import { probeDynamo } from '#adapters/health-probe.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { getHealth as contract } from '#contract/system/get-health.ts';

export const handler = httpHandler(contract).handle(async () => {
  const report = await checkHealth(config.stage, probeDynamo, config.limits.healthTimeoutMs);
  return { statusCode: report.status === 'ok' ? 200 : 503, body: report };
});
