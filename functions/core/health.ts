// Health: reports whether the data store answers, and how fast. Pure logic over an injected probe.
export interface HealthReport {
  status: 'ok' | 'degraded';
  stage: string;
  time: string;
  dynamodb: { reachable: boolean; latencyMs: number };
}

export async function checkHealth(stage: string, probe: () => Promise<void>, timeoutMs: number): Promise<HealthReport> {
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
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  return { status: reachable ? 'ok' : 'degraded', stage, time: new Date().toISOString(), dynamodb: { reachable, latencyMs } };
}
