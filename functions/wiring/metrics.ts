// Composition root of business metrics: EMF lines on stdout inside Lambda (CloudWatch Logs makes the
// metrics), the laptop runtime's in-memory collector locally (never stdout), nothing anywhere else.
// Only the routes that count import this, so no other bundle carries the emitter.
import { emfMetrics, noMetrics, type BufferedMetrics } from '#adapters/emf-metrics.ts';
import { loadMetricsConfig } from '#core/config.ts';
import { clock, config } from './platform.ts';

let port: BufferedMetrics | undefined;
let localOutput: ((line: string) => void) | undefined;

/** The laptop runtime collects the EMF lines itself (local/metrics.ts). Refused inside Lambda. */
export function useMetricsOutput(write: (line: string) => void): void {
  if (config().inLambda) throw new Error('useMetricsOutput() is for the laptop runtime only');
  localOutput = write;
  port = undefined;
}

export function metrics(): BufferedMetrics {
  if (port) return port;
  const settings = loadMetricsConfig(process.env);
  const write = localOutput ?? (settings.enabled ? (line: string) => void process.stdout.write(`${line}\n`) : undefined);
  return (port = write ? emfMetrics(settings, clock(), write) : noMetrics);
}
