// Business metrics as CloudWatch Embedded Metric Format: the counts of one invocation, written at its
// end as JSON log lines that CloudWatch Logs turns into metrics (no API call, no client). The same
// documents Powertools Metrics writes (tests/metrics-emf.test.ts compares them), in ~1 KB instead
// of its ~15 KB, which the fullest bundles cannot carry (docs/architecture.md).
import type { BusinessMetric, Clock, MetricsPort } from '#core/ports.ts';

export interface EmfSettings {
  namespace: string;
  /** Every metric carries these dimensions (service, stage), so stages sharing an account stay apart. */
  dimensions: Readonly<Record<string, string>>;
}

/** A MetricsPort that holds its counts until `flush()`, once per invocation. */
export interface BufferedMetrics extends MetricsPort {
  flush(): void;
}

/**
 * One document per distinct set of dimensions. A metric with its own dimensions (OtpsSent by channel)
 * is published both with and without them, so an alarm can watch the total. One event is one value
 * (several are an array), as Powertools writes them: Sum and SampleCount both count events.
 */
export function emfMetrics(settings: EmfSettings, clock: Clock, write: (line: string) => void): BufferedMetrics {
  let pending = new Map<string, { dimensions: Record<string, string>; counts: Map<string, number> }>();
  const base = Object.keys(settings.dimensions);
  return {
    count(name: BusinessMetric, dimensions: Record<string, string> = {}) {
      const key = JSON.stringify(dimensions);
      let group = pending.get(key);
      if (!group) pending.set(key, (group = { dimensions, counts: new Map() }));
      group.counts.set(name, (group.counts.get(name) ?? 0) + 1);
    },
    flush() {
      const groups = pending;
      pending = new Map();
      for (const { dimensions, counts } of groups.values()) {
        const own = Object.keys(dimensions);
        const values = Object.fromEntries([...counts].map(([name, n]) => [name, n === 1 ? 1 : Array<number>(n).fill(1)]));
        const directive = {
          Namespace: settings.namespace,
          Dimensions: own.length ? [base, [...base, ...own]] : [base],
          Metrics: [...counts.keys()].map((Name) => ({ Name, Unit: 'Count' })),
        };
        write(JSON.stringify({ _aws: { Timestamp: clock.now(), CloudWatchMetrics: [directive] }, ...settings.dimensions, ...dimensions, ...values }));
      }
    },
  };
}

/** Counts nothing (metrics off: outside Lambda, unless the laptop runtime collects them). */
export const noMetrics: BufferedMetrics = { count() {}, flush() {} };
