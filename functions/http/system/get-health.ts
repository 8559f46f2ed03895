// GET /api/health: 200 when DynamoDB answers, 503 (same body shape) when it does not.
import { getHealth as contract } from '#contract/system/get-health.ts';
import { checkHealth } from '#core/health.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { system } from '#wiring/system.ts';

export const handler = httpHandler(contract).handle(async () => {
  const report = await checkHealth(system());
  return report.status === 'ok' ? { body: report } : { statusCode: 503, body: report };
});
