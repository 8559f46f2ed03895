// Shared benchmark helpers: statistics, a fresh-process import timer, table printing and result
// files. Benchmarks import these so every number in bench/results is measured and reported alike.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const BENCH_DIR = import.meta.dirname;
export const PROJECT_ROOT = join(BENCH_DIR, '..');
export const RESULTS_DIR = join(BENCH_DIR, 'results');

// ---- statistics ----------------------------------------------------------------------------------

function sorted(values: readonly number[]): number[] {
  if (values.length === 0) throw new Error('no samples');
  return [...values].sort((a, b) => a - b);
}

/** The p-th percentile (0..100), linearly interpolated between closest ranks. */
export function percentile(values: readonly number[], p: number): number {
  if (p < 0 || p > 100) throw new RangeError(`percentile ${p} is outside 0..100`);
  const s = sorted(values);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo]! + (s[hi]! - s[lo]!) * (rank - lo);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new Error('no samples');
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly median: number;
  readonly p90: number;
  readonly max: number;
  readonly mean: number;
}

export function summarize(values: readonly number[]): Summary {
  const s = sorted(values);
  return {
    n: s.length,
    min: round(s[0]!),
    median: round(median(s)),
    p90: round(percentile(s, 90)),
    max: round(s[s.length - 1]!),
    mean: round(mean(s)),
  };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export const kib = (bytes: number): number => round(bytes / 1024, 1);

// ---- measuring -------------------------------------------------------------------------------------

/** Runs in the child: times one dynamic import and prints the milliseconds as JSON. */
const IMPORT_TIMER = `
const t0 = performance.now();
const mod = await import(process.argv[1]);
const importMs = performance.now() - t0;
process.stdout.write(JSON.stringify({ importMs, exports: Object.keys(mod) }));
`;

export interface ImportTiming {
  readonly importMs: number;
  readonly exports: string[];
}

export interface ImportOptions {
  /** The child's entire environment (nothing is inherited unless passed here). */
  readonly env: NodeJS.ProcessEnv;
  /** Node flags for the child, e.g. ['--enable-source-maps']. */
  readonly nodeArgs?: readonly string[];
}

/**
 * Cold module load: a fresh `process.execPath` (same Node as this run) imports `modulePath` once
 * and reports how long the import took, module evaluation included, Node's own startup excluded.
 */
export function timeImport(modulePath: string, options: ImportOptions): ImportTiming {
  const out = execFileSync(process.execPath, [...(options.nodeArgs ?? []), '--input-type=module', '-e', IMPORT_TIMER, pathToFileURL(modulePath).href], {
    env: options.env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out) as ImportTiming;
}

/**
 * Runs every case `runs` times, round-robin (case A, B, C, A, B, C, ...) so that drift in machine
 * load spreads over all cases instead of biasing whichever ran last. Returns samples per case.
 */
export function roundRobin<K extends string>(cases: Readonly<Record<K, () => number>>, runs: number, warmup = 1): Record<K, number[]> {
  const keys = Object.keys(cases) as K[];
  const samples = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < warmup + runs; i++) {
    for (const k of keys) {
      const value = cases[k]();
      if (i >= warmup) samples[k].push(value);
    }
  }
  return samples;
}

// ---- reporting ------------------------------------------------------------------------------------

export interface Column<R> {
  readonly header: string;
  readonly value: (row: R) => string | number;
  readonly align?: 'left' | 'right';
}

/** A plain-text table; numbers align right unless told otherwise. */
export function formatTable<R>(rows: readonly R[], columns: readonly Column<R>[]): string {
  const cells = rows.map((r) => columns.map((c) => String(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const alignOf = (i: number) => columns[i]!.align ?? (rows.length && typeof columns[i]!.value(rows[0]!) === 'number' ? 'right' : 'left');
  const pad = (text: string, i: number) => (alignOf(i) === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (texts: string[]) => texts.map(pad).join('  ').trimEnd();
  return [line(columns.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** Facts about the run that every result file carries, so numbers can be compared later. */
export function environment() {
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cores: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
  };
}

export function writeResults(file: string, data: unknown): string {
  const path = join(RESULTS_DIR, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}
