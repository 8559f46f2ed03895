// The laptop's stand-in for CloudWatch's metric extraction: the handlers' business metrics arrive as
// the same EMF lines they write to stdout in Lambda (functions/adapters/emf-metrics.ts), and are
// kept here in memory, never printed, so `npm start` and the tests stay quiet; tests read the sums.

/** One EMF log line, parsed. */
export interface EmfDocument {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

/** A value CloudWatch records: one metric, under one set of dimensions. */
export interface Datapoint {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  values: number[];
}

/** What CloudWatch makes of an EMF document: each metric under each of its dimension sets. */
export function datapoints(doc: EmfDocument): Datapoint[] {
  return doc._aws.CloudWatchMetrics.flatMap((directive) =>
    directive.Dimensions.flatMap((set) =>
      directive.Metrics.map((m) => ({
        namespace: directive.Namespace,
        name: m.Name,
        dimensions: Object.fromEntries(set.map((key) => [key, String(doc[key])])),
        values: ([] as number[]).concat(doc[m.Name] as number | number[]),
      })),
    ),
  );
}

/** Dimensions every metric carries (the stage's), left out when summing. */
const COMMON = new Set(['service', 'stage']);

/** The most recent documents kept (a long `npm start` session does not grow without end). */
const KEEP = 10_000;

export class LocalMetrics {
  readonly documents: EmfDocument[] = [];

  /** Where the handlers' lines go (functions/wiring/metrics.ts useMetricsOutput). */
  readonly write = (line: string): void => {
    this.documents.push(JSON.parse(line) as EmfDocument);
    if (this.documents.length > KEEP) this.documents.shift();
  };

  /**
   * The Sum CloudWatch would show for `name` under exactly these dimensions besides service and stage:
   * none for the total, `{ channel: 'sms' }` for OtpsSent by SMS.
   */
  sum(name: string, dimensions: Record<string, string> = {}): number {
    const wanted = Object.entries(dimensions);
    return this.documents
      .flatMap(datapoints)
      .filter((p) => p.name === name)
      .filter((p) => {
        const own = Object.entries(p.dimensions).filter(([key]) => !COMMON.has(key));
        return own.length === wanted.length && wanted.every(([key, value]) => p.dimensions[key] === value);
      })
      .reduce((total, p) => total + p.values.reduce((a, b) => a + b, 0), 0);
  }
}
