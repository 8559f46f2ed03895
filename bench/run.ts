// `npm run bench`: bundles every manifest route exactly as the stack does (lib/bundling.ts) and
// reports its size, largest packages and project files, and its cold module-load time against two
// baselines measured the same way: an empty ES module and the bare AWS clients (bench/sdk-baseline.ts),
// with the goals (<= 300 KB, p50 <= SDK baseline + 25 ms) flagged (bench/results/bundles.json);
// then runs bench/messaging.ts and bench/otp-timing.ts, each in a process of its own, since the laptop
// runtime they start is one per process (bench/results/messaging.json, bench/results/otp-timing.json),
// and prices what messaging measured (bench/cost.ts: bench/results/cost.json); bench/observability.ts:
// business metrics' bundle cost and Powertools Tracer's cold start (bench/results/observability.json).
// Options: --runs N (bundle and observability benches, default 15), --only bundles|messaging|otp|observability.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build, version as esbuildVersion, type Metafile } from 'esbuild';
import { esbuildOptions } from '../lib/bundling.ts';
import { allRoutes as manifestRoutes, allWorkers, type Route } from '../lib/routes.ts';
import { tables } from '../lib/tables.ts';
import { BENCH_DIR, PROJECT_ROOT, environment, formatTable, kib, round, roundRobin, summarize, timeImport, writeResults, type Summary } from './lib.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '15' }, only: { type: 'string' } } });
const RUNS = Number(args.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a positive integer, got ${args.runs}`);
const benches = ['bundles', 'messaging', 'otp', 'observability'] as const;
if (args.only !== undefined && !(benches as readonly string[]).includes(args.only)) throw new Error(`--only takes ${benches.join(', ')}, got ${args.only}`);
const runs = (bench: (typeof benches)[number]) => args.only === undefined || args.only === bench;

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

/** The goals every route bundle is held to (tests/bundles.test.ts checks the size one). */
const GOALS = {
  /** Minified bundle size, bytes (300 KB). */
  maxBytes: 300 * 1024,
  /** Cold load p50 at most this many ms above the SDK baseline's p50. */
  maxMsOverSdkBaseline: 25,
} as const;

interface Contributor {
  readonly name: string;
  readonly bytes: number;
}

interface Bundle {
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly mapBytes: number;
  readonly topPackages: Contributor[];
  readonly topProjectFiles: Contributor[];
}

/** Every deployed function: the routes, the $connect authorizer and the queue workers (named by what invokes them). */
const allRoutes: readonly Route[] = [
  ...manifestRoutes,
  ...manifestRoutes.flatMap((r) =>
    r.kind === 'ws' && r.authorizer ? [{ ...r, id: r.authorizer.id, handler: r.authorizer.handler, routeKey: '$connect authorizer' } as Route] : [],
  ),
  ...allWorkers.map((w) => ({ kind: 'ws', id: w.id, handler: w.handler, routeKey: `queue ${w.queue}` }) as unknown as Route),
];

const routeKey = (r: Route) => (r.kind === 'http' ? `${r.method} ${r.path}` : r.routeKey);

const TOP = 8;
const PACKAGE = /node_modules\/((?:@[^/]+\/)?[^/]+)/;

/** Bytes of output per npm package (or "(project)"), largest first. */
function packagesBySize(metafile: Metafile): Contributor[] {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = PACKAGE.exec(input);
      const name = match ? match[1]! : '(project)';
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/** Bytes of output per project source file (paths from the project root), largest first. */
function projectFilesBySize(metafile: Metafile): Contributor[] {
  const files: Contributor[] = [];
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (!input.includes('node_modules/') && bytesInOutput > 0) files.push({ name: input, bytes: bytesInOutput });
    }
  }
  return files.sort((a, b) => b.bytes - a.bytes);
}

/** Bundles one entry module exactly as a route is bundled (lib/bundling.ts) into its own folder. */
async function bundle(entry: string, name: string, dir: string): Promise<Bundle> {
  const outdir = join(dir, name);
  const result = await build({
    ...esbuildOptions,
    absWorkingDir: PROJECT_ROOT,
    entryPoints: { index: entry },
    outdir,
    metafile: true,
    logLevel: 'warning',
  });
  const file = join(outdir, 'index.mjs');
  return {
    file,
    bytes: statSync(file).size,
    gzipBytes: gzipSync(readFileSync(file)).byteLength,
    mapBytes: statSync(`${file}.map`).size,
    topPackages: packagesBySize(result.metafile).slice(0, TOP),
    topProjectFiles: projectFilesBySize(result.metafile).slice(0, TOP),
  };
}

const SDK_BASELINE_MODULE = join(BENCH_DIR, 'sdk-baseline.ts');
const ok = (met: boolean) => (met ? 'ok' : 'MISS');
const top = (list: readonly Contributor[], n: number) =>
  list
    .slice(0, n)
    .map((c) => `${c.name} ${kib(c.bytes).toFixed(1)}`)
    .join(', ');

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nexchat-bench-'));
  try {
    const bundles = new Map<Route, Bundle>();
    for (const route of allRoutes) bundles.set(route, await bundle(join(PROJECT_ROOT, route.handler), route.id, dir));
    const sdk = await bundle(SDK_BASELINE_MODULE, '(sdk-baseline)', dir);
    const empty = join(dir, 'empty.mjs');
    writeFileSync(empty, 'export {};\n');

    // Each bundle must load and export a handler, or its timing means nothing; the SDK baseline
    // must load and export its clients.
    for (const [route, b] of bundles) {
      const { exports } = timeImport(b.file, { env: childEnv, nodeArgs: AS_DEPLOYED });
      if (!exports.includes('handler')) throw new Error(`${route.id}: bundle does not export handler (exports: ${exports.join(', ')})`);
    }
    const sdkExports = timeImport(sdk.file, { env: childEnv, nodeArgs: AS_DEPLOYED }).exports;
    if (!sdkExports.includes('doc') || !sdkExports.includes('connections')) throw new Error(`SDK baseline bundle exports ${sdkExports.join(', ')}`);

    console.log(`timing ${bundles.size} bundles + empty and SDK baselines, ${RUNS} cold imports each, ${process.version}...`);
    const cases: Record<string, () => number> = {
      baseline: () => timeImport(empty, { env: childEnv, nodeArgs: AS_DEPLOYED }).importMs,
      'baseline/nomap': () => timeImport(empty, { env: childEnv }).importMs,
      sdkBaseline: () => timeImport(sdk.file, { env: childEnv, nodeArgs: AS_DEPLOYED }).importMs,
      'sdkBaseline/nomap': () => timeImport(sdk.file, { env: childEnv }).importMs,
    };
    for (const [route, b] of bundles) {
      cases[route.id] = () => timeImport(b.file, { env: childEnv, nodeArgs: AS_DEPLOYED }).importMs;
      cases[`${route.id}/nomap`] = () => timeImport(b.file, { env: childEnv }).importMs;
    }
    const samples = roundRobin(cases, RUNS);
    const stats = (key: string): Summary => summarize(samples[key]!);
    const baseline = stats('baseline');
    const baselineNoMap = stats('baseline/nomap');
    const sdkLoad = stats('sdkBaseline');
    const sdkLoadNoMap = stats('sdkBaseline/nomap');
    const maxLoadMs = round(sdkLoad.median + GOALS.maxMsOverSdkBaseline);

    const rows = [...bundles].map(([route, b]) => {
      const load = stats(route.id);
      const noMap = stats(`${route.id}/nomap`);
      const msOverSdkBaseline = round(load.median - sdkLoad.median);
      return {
        id: route.id,
        kind: route.kind,
        routeKey: routeKey(route),
        handler: route.handler,
        bytes: b.bytes,
        gzipBytes: b.gzipBytes,
        kb: kib(b.bytes),
        gzipKb: kib(b.gzipBytes),
        mapKb: kib(b.mapBytes),
        loadMs: load,
        loadMsWithoutSourceMaps: noMap,
        /** p50 over the empty module's p50. */
        ratioToBaseline: round(load.median / baseline.median, 1),
        /** p50 over the SDK baseline's p50. */
        ratioToSdkBaseline: round(load.median / sdkLoad.median, 2),
        /** p50 minus the SDK baseline's p50, ms. */
        msOverSdkBaseline,
        goals: { bytes: b.bytes <= GOALS.maxBytes, load: load.median <= maxLoadMs },
        topPackages: b.topPackages,
        topProjectFiles: b.topProjectFiles,
      };
    });

    console.log(
      formatTable(rows, [
        { header: 'route', value: (r) => r.id },
        { header: 'key', value: (r) => r.routeKey },
        { header: 'bytes', value: (r) => r.bytes, align: 'right' },
        { header: 'KB min', value: (r) => r.kb.toFixed(1), align: 'right' },
        { header: 'KB gz', value: (r) => r.gzipKb.toFixed(1), align: 'right' },
        { header: 'KB map', value: (r) => r.mapKb.toFixed(1), align: 'right' },
        { header: 'load p50 ms', value: (r) => r.loadMs.median.toFixed(1), align: 'right' },
        { header: 'p90 ms', value: (r) => r.loadMs.p90.toFixed(1), align: 'right' },
        { header: 'x empty', value: (r) => r.ratioToBaseline.toFixed(1), align: 'right' },
        { header: 'x sdk', value: (r) => r.ratioToSdkBaseline.toFixed(2), align: 'right' },
        { header: '+ms sdk', value: (r) => r.msOverSdkBaseline.toFixed(1), align: 'right' },
        { header: 'no-map p50', value: (r) => r.loadMsWithoutSourceMaps.median.toFixed(1), align: 'right' },
        { header: '<=300KB', value: (r) => ok(r.goals.bytes) },
        { header: `<=sdk+${GOALS.maxMsOverSdkBaseline}ms`, value: (r) => ok(r.goals.load) },
      ]),
    );
    console.log(
      `empty ESM module: p50 ${baseline.median.toFixed(2)} ms, p90 ${baseline.p90.toFixed(2)} ms ` +
        `(without --enable-source-maps: p50 ${baselineNoMap.median.toFixed(2)} ms)`,
    );
    console.log(
      `SDK baseline (DynamoDBClient + DynamoDBDocumentClient + ApiGatewayManagementApiClient): ${sdk.bytes} bytes (${kib(sdk.bytes)} KB, gzip ${kib(sdk.gzipBytes)} KB), ` +
        `load p50 ${sdkLoad.median.toFixed(2)} ms, p90 ${sdkLoad.p90.toFixed(2)} ms (without --enable-source-maps: p50 ${sdkLoadNoMap.median.toFixed(2)} ms)`,
    );
    const missing = rows.filter((r) => !r.goals.bytes || !r.goals.load);
    if (missing.length > 0) {
      console.log('\nlargest contributors (KB) of the routes that miss a goal:');
      console.log(
        formatTable(missing, [
          { header: 'route', value: (r) => r.id },
          { header: 'top packages', value: (r) => top(r.topPackages, 4) },
          { header: 'top project files', value: (r) => top(r.topProjectFiles, 3) },
        ]),
      );
    }
    const sizeMet = rows.filter((r) => r.goals.bytes).length;
    const loadMet = rows.filter((r) => r.goals.load).length;
    const bothMet = rows.filter((r) => r.goals.bytes && r.goals.load).length;
    const summary = { routes: rows.length, meetBytesGoal: sizeMet, meetLoadGoal: loadMet, meetBoth: bothMet };
    console.log(
      `\ngoals: ${sizeMet}/${rows.length} routes <= 300 KB (${GOALS.maxBytes} bytes); ` +
        `${loadMet}/${rows.length} routes load p50 <= SDK baseline p50 + ${GOALS.maxMsOverSdkBaseline} ms (${maxLoadMs} ms); ${bothMet}/${rows.length} meet both`,
    );

    const path = writeResults('bundles.json', {
      benchmark: 'bundles',
      ...environment(),
      esbuild: esbuildVersion,
      runsPerCase: RUNS,
      method:
        'Each case: a fresh process.execPath child dynamic-imports the module once and reports performance.now() around the import ' +
        '(evaluation included, Node startup excluded). Cases (every route, the empty module and the SDK baseline) run round-robin ' +
        'after one warm-up round. "loadMs" uses --enable-source-maps as Lambda does (NODE_OPTIONS); "loadMsWithoutSourceMaps" does not. ' +
        'Ratios and msOverSdkBaseline compare p50s (loadMs.median). Sizes are the minified .mjs; contributors are esbuild metafile bytesInOutput.',
      bundleOptions: esbuildOptions,
      goals: {
        maxBytes: GOALS.maxBytes,
        maxMsOverSdkBaseline: GOALS.maxMsOverSdkBaseline,
        maxLoadMsP50: maxLoadMs,
      },
      summary,
      baseline: { module: 'export {};', loadMs: baseline, loadMsWithoutSourceMaps: baselineNoMap },
      sdkBaseline: {
        module: 'bench/sdk-baseline.ts',
        bytes: sdk.bytes,
        gzipBytes: sdk.gzipBytes,
        kb: kib(sdk.bytes),
        gzipKb: kib(sdk.gzipBytes),
        mapKb: kib(sdk.mapBytes),
        loadMs: sdkLoad,
        loadMsWithoutSourceMaps: sdkLoadNoMap,
        ratioToBaseline: round(sdkLoad.median / baseline.median, 1),
        topPackages: sdk.topPackages,
      },
      routes: rows,
    });
    console.log(`wrote ${path}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The messaging and OTP benchmarks start the laptop runtime, which runs once per process: each gets its own (so does observability). */
function ownProcess(file: string, args: string[] = []): void {
  const child = spawnSync(process.execPath, [join(BENCH_DIR, file), ...args], { stdio: 'inherit' });
  if (child.status !== 0) throw new Error(`bench/${file} failed (${child.signal ?? `exit ${child.status}`})`);
}

if (runs('bundles')) await main();
if (runs('messaging')) {
  ownProcess('messaging.ts');
  // dollars per 1M messages from what it just measured (bench/results/cost.json)
  ownProcess('cost.ts');
}
if (runs('otp')) ownProcess('otp-timing.ts');
if (runs('observability')) ownProcess('observability.ts', ['--runs', String(RUNS)]);
