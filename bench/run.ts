// `npm run bench`: bundles every manifest route exactly as the stack does (lib/bundling.ts) and
// reports its size and its cold module-load time against an empty ES module measured the same way
// (bench/results/bundles.json); then runs bench/messaging.ts in a process of its own, since the laptop
// runtime it starts is one per process (bench/results/messaging.json).
// Options: --runs N (bundle bench, default 15), --only bundles|messaging.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build, version as esbuildVersion, type Metafile } from 'esbuild';
import { esbuildOptions } from '../lib/bundling.ts';
import { allRoutes, type Route } from '../lib/routes.ts';
import { tables } from '../lib/tables.ts';
import { BENCH_DIR, PROJECT_ROOT, environment, formatTable, kib, round, roundRobin, summarize, timeImport, writeResults, type Summary } from './lib.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '15' }, only: { type: 'string' } } });
const RUNS = Number(args.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a positive integer, got ${args.runs}`);
if (args.only !== undefined && args.only !== 'bundles' && args.only !== 'messaging') throw new Error(`--only takes bundles or messaging, got ${args.only}`);

/**
 * What a Lambda has at import time, minus AWS: module-scope config (functions/core/config.ts) must
 * parse. AWS_LAMBDA_FUNCTION_NAME stays unset, or config would apply its in-Lambda rules.
 */
const childEnv: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  NEXCHAT_STAGE: 'bench',
  AWS_REGION: 'us-east-1',
  ...Object.fromEntries(tables.map((t) => [t.envVar, `bench-${t.id}`])),
};

/** Lambda runs our bundles with NODE_OPTIONS=--enable-source-maps; it makes Node read the map on load. */
const AS_DEPLOYED = ['--enable-source-maps'];

interface Bundle {
  readonly route: Route;
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly mapBytes: number;
  readonly topPackages: { name: string; bytes: number }[];
}

const routeKey = (r: Route) => (r.kind === 'http' ? `${r.method} ${r.path}` : r.routeKey);

/** Bytes of output per npm package (or "(project)"), largest first. */
function packagesBySize(metafile: Metafile): { name: string; bytes: number }[] {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const name = match ? match[1]! : '(project)';
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

async function bundle(route: Route, dir: string): Promise<Bundle> {
  const outdir = join(dir, route.id);
  const result = await build({
    ...esbuildOptions,
    absWorkingDir: PROJECT_ROOT,
    entryPoints: { index: join(PROJECT_ROOT, route.handler) },
    outdir,
    metafile: true,
    logLevel: 'warning',
  });
  const file = join(outdir, 'index.mjs');
  return {
    route,
    file,
    bytes: statSync(file).size,
    gzipBytes: gzipSync(readFileSync(file)).byteLength,
    mapBytes: statSync(`${file}.map`).size,
    topPackages: packagesBySize(result.metafile).slice(0, 8),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nexchat-bench-'));
  try {
    const bundles = [];
    for (const route of allRoutes) bundles.push(await bundle(route, dir));
    const empty = join(dir, 'empty.mjs');
    writeFileSync(empty, 'export {};\n');

    // Each bundle must load and export a handler, or its timing means nothing.
    for (const b of bundles) {
      const { exports } = timeImport(b.file, { env: childEnv, nodeArgs: AS_DEPLOYED });
      if (!exports.includes('handler')) throw new Error(`${b.route.id}: bundle does not export handler (exports: ${exports.join(', ')})`);
    }

    console.log(`timing ${bundles.length} bundles + baseline, ${RUNS} cold imports each, ${process.version}...`);
    const cases: Record<string, () => number> = {
      baseline: () => timeImport(empty, { env: childEnv, nodeArgs: AS_DEPLOYED }).importMs,
      'baseline/nomap': () => timeImport(empty, { env: childEnv }).importMs,
    };
    for (const b of bundles) {
      cases[b.route.id] = () => timeImport(b.file, { env: childEnv, nodeArgs: AS_DEPLOYED }).importMs;
      cases[`${b.route.id}/nomap`] = () => timeImport(b.file, { env: childEnv }).importMs;
    }
    const samples = roundRobin(cases, RUNS);
    const stats = (key: string): Summary => summarize(samples[key]!);
    const baseline = stats('baseline');
    const baselineNoMap = stats('baseline/nomap');

    const rows = bundles.map((b) => {
      const load = stats(b.route.id);
      const noMap = stats(`${b.route.id}/nomap`);
      return {
        id: b.route.id,
        kind: b.route.kind,
        routeKey: routeKey(b.route),
        handler: b.route.handler,
        bytes: b.bytes,
        kb: kib(b.bytes),
        gzipKb: kib(b.gzipBytes),
        mapKb: kib(b.mapBytes),
        loadMs: load,
        loadMsWithoutSourceMaps: noMap,
        ratioToBaseline: round(load.median / baseline.median, 1),
        topPackages: b.topPackages,
      };
    });

    console.log(
      formatTable(rows, [
        { header: 'route', value: (r) => r.id },
        { header: 'key', value: (r) => r.routeKey },
        { header: 'KB min', value: (r) => r.kb.toFixed(1), align: 'right' },
        { header: 'KB gz', value: (r) => r.gzipKb.toFixed(1), align: 'right' },
        { header: 'KB map', value: (r) => r.mapKb.toFixed(1), align: 'right' },
        { header: 'load p50 ms', value: (r) => r.loadMs.median.toFixed(1), align: 'right' },
        { header: 'p90 ms', value: (r) => r.loadMs.p90.toFixed(1), align: 'right' },
        { header: 'x empty', value: (r) => r.ratioToBaseline.toFixed(1), align: 'right' },
        { header: 'no-map p50', value: (r) => r.loadMsWithoutSourceMaps.median.toFixed(1), align: 'right' },
      ]),
    );
    console.log(
      `empty ESM module: p50 ${baseline.median.toFixed(2)} ms, p90 ${baseline.p90.toFixed(2)} ms ` +
        `(without --enable-source-maps: p50 ${baselineNoMap.median.toFixed(2)} ms)`,
    );
    console.log('largest packages in the first bundle:', rows[0]?.topPackages.slice(0, 5).map((p) => `${p.name} ${kib(p.bytes)} KB`).join(', '));

    const path = writeResults('bundles.json', {
      benchmark: 'bundles',
      ...environment(),
      esbuild: esbuildVersion,
      runsPerCase: RUNS,
      method:
        'Each case: a fresh process.execPath child dynamic-imports the module once and reports performance.now() around the import ' +
        '(evaluation included, Node startup excluded). Cases run round-robin after one warm-up round. "loadMs" uses ' +
        '--enable-source-maps as Lambda does (NODE_OPTIONS); "loadMsWithoutSourceMaps" does not.',
      bundleOptions: esbuildOptions,
      baseline: { module: 'export {};', loadMs: baseline, loadMsWithoutSourceMaps: baselineNoMap },
      routes: rows,
    });
    console.log(`wrote ${path}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The messaging benchmark starts the laptop runtime, which runs once per process: it gets its own. */
function messaging(): void {
  const child = spawnSync(process.execPath, [join(BENCH_DIR, 'messaging.ts')], { stdio: 'inherit' });
  if (child.status !== 0) throw new Error(`bench/messaging.ts failed (${child.signal ?? `exit ${child.status}`})`);
}

if (args.only !== 'messaging') await main();
if (args.only !== 'bundles') messaging();
