// Health: reports whether the data store answers, and how fast. Pure logic over an injected probe.
import type { HealthReport } from '#contract/system/get-health.ts';
import type { Config } from './config.ts';
import type { Clock, HealthPort } from './ports.ts';

export async function checkHealth(deps: { health: HealthPort; config: Config; clock: Clock }): Promise<HealthReport> {
  const { stage } = deps.config;
  const timeoutMs = deps.config.limits.healthTimeoutMs;
  const probe = () => deps.health.probe();
  // elapsed wall time of the probe itself, not the application's clock (which a test may freeze)
  // eslint-disable-next-line no-restricted-properties -- measuring real latency
  const started = performance.now();
  let reachable = true;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
  } catch {
    reachable = false;
  } finally {
    clearTimeout(timer);
  }
  // eslint-disable-next-line no-restricted-properties -- measuring real latency
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  return { status: reachable ? 'ok' : 'degraded', stage, time: new Date(deps.clock.now()).toISOString(), dynamodb: { reachable, latencyMs } };
}
