// Bench variant of functions/adapters/emf-metrics.ts over Powertools Metrics, for its bundle cost
// only: bench/observability.ts swaps it in for the routes that count; it never ships.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { BufferedMetrics, EmfSettings } from '../../functions/adapters/emf-metrics.ts';
import type { BusinessMetric, Clock } from '../../functions/core/ports.ts';

export type { BufferedMetrics, EmfSettings };

export function emfMetrics(settings: EmfSettings, _clock: Clock, _write: (line: string) => void): BufferedMetrics {
  const { service, ...defaultDimensions } = settings.dimensions;
  const metrics = new Metrics({ namespace: settings.namespace, serviceName: service ?? 'nexchat', defaultDimensions });
  return {
    count(name: BusinessMetric, dimensions?: Record<string, string>) {
      if (!dimensions) return void metrics.addMetric(name, MetricUnit.Count, 1);
      const single = metrics.singleMetric();
      single.addDimensions(dimensions);
      single.addMetric(name, MetricUnit.Count, 1);
    },
    flush() {
      metrics.publishStoredMetrics();
    },
  };
}

export const noMetrics: BufferedMetrics = { count() {}, flush() {} };
