// What observability costs the Lambdas, run by `npm run bench` in its own process (or
// `node bench/observability.ts --runs N`). Results: bench/results/observability.json.
//
// 1. Business metrics: every function whose bundle holds the EMF emitter (functions/adapters/
//    emf-metrics.ts), bundled as shipped and with Powertools Metrics in the emitter's place (as
//    imported, and by its leanest path: the commons root cut down to what Metrics uses).
// 2. Powertools Tracer: GetHealth (one DynamoDB GetItem) as shipped and with Tracer capturing its
//    DynamoDB client, alone and with Tracer's defaults (which also patch http, https and fetch).
//    Cold start = module load + first invocation, each sample a fresh Node process importing the
//    bundle and calling its handler against a stub DynamoDB on localhost, as Lambda would with X-Ray
//    active (sampled trace header, Lambda-mode X-Ray SDK, a daemon address this process listens on,
//    so a traced run must really emit its DynamoDB subsegment). Wall clock and CPU time (user +
//    system) of each sample; cases round-robin in one run, the order rotated every round. Within the
//    budget means both medians of the per-round differences (traced minus plain) are under it: on a
//    shared machine the wall clock mostly measures waiting, which CPU time leaves out.
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { build, type Metafile, type Plugin } from 'esbuild';
import { esbuildOptions } from '../lib/bundling.ts';
import { allRoutes, allWorkers } from '../lib/routes.ts';
import { tables } from '../lib/tables.ts';
import { BENCH_DIR, PROJECT_ROOT, environment, formatTable, kib, median, round, summarize, writeResults } from './lib.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const RUNS = Number(args.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a positive integer, got ${args.runs}`);

const MAX_BYTES = 300 * 1024;
/** Adopt Tracer only if it adds less than this to a cold start (the budget). */
const TRACER_BUDGET_MS = 10;

const EMITTER = join(PROJECT_ROOT, 'functions/adapters/emf-metrics.ts');
const DB = join(PROJECT_ROOT, 'functions/adapters/dynamodb/db.ts');
const variant = (file: string) => join(BENCH_DIR, 'variants', file);

/** Resolves imports of `target` (however spelled) to `replacement`, except from the replacement itself. */
function swap(target: string, replacement: string): Plugin {
  return {
    name: `swap ${basename(target)}`,
    setup(b) {
      b.onResolve({ filter: new RegExp(`${basename(target).replace('.', '\\.')}$`) }, async (a) => {
        if (a.pluginData === 'swap' || a.importer === replacement) return undefined;
        const resolved = await b.resolve(a.path, { kind: a.kind, importer: a.importer, resolveDir: a.resolveDir, pluginData: 'swap' });
        return resolved.path === target ? { path: replacement } : undefined;
      });
    },
  };
}

/** The commons root, cut down to what Metrics takes from it (bench/variants/powertools-commons-lean.ts). */
const leanCommons: Plugin = {
  name: 'lean commons',
  setup(b) {
    b.onResolve({ filter: /^@aws-lambda-powertools\/commons$/ }, () => ({ path: variant('powertools-commons-lean.ts') }));
  },
};

interface Built {
  readonly bytes: number;
  readonly metafile: Metafile;
  readonly file: string;
}

/** Bundles entries exactly as the stack does (lib/bundling.ts), plus the variant's plugins. */
async function bundle(entries: Record<string, string>, outdir: string, plugins: Plugin[] = []): Promise<Map<string, Built>> {
  const result = await build({ ...esbuildOptions, absWorkingDir: PROJECT_ROOT, entryPoints: entries, outdir, metafile: true, plugins, logLevel: 'warning' });
  const out = new Map<string, Built>();
  for (const [path, output] of Object.entries(result.metafile.outputs)) {
    if (!path.endsWith('.mjs') || !output.entryPoint) continue;
    const file = join(PROJECT_ROOT, path);
    out.set(basename(path, '.mjs'), { bytes: statSync(file).size, metafile: result.metafile, file });
  }
  return out;
}

const signed = (n: number) => (n >= 0 ? `+${n}` : `${n}`);

/** The output of entry `id` in a build's metafile. */
function findOutput(metafile: Metafile, id: string) {
  return Object.entries(metafile.outputs).find(([path]) => path.endsWith(`/${id}.mjs`))![1];
}

/** Bytes that the inputs matching `match` put into the bundle of `id`. */
const bytesOf = (metafile: Metafile, id: string, match: (input: string) => boolean) =>
  Object.entries(findOutput(metafile, id).inputs)
    .filter(([input]) => match(input))
    .reduce((sum, [, v]) => sum + v.bytesInOutput, 0);

// ---- 1. business metrics: bundle sizes ------------------------------------------------------------

async function metricsBundles(dir: string) {
  const functions = [
    ...allRoutes.map((r) => ({ id: r.id, handler: r.handler })),
    ...allRoutes.flatMap((r) => (r.kind === 'ws' && r.authorizer ? [{ id: r.authorizer.id, handler: r.authorizer.handler }] : [])),
    ...allWorkers.map((w) => ({ id: w.id, handler: w.handler })),
  ];
  const all = await bundle(Object.fromEntries(functions.map((f) => [f.id, join(PROJECT_ROOT, f.handler)])), join(dir, 'shipped'));
  const relEmitter = 'functions/adapters/emf-metrics.ts';
  const counting = functions.filter((f) => (findOutput(all.get(f.id)!.metafile, f.id).inputs[relEmitter]?.bytesInOutput ?? 0) > 0);
  const entries = Object.fromEntries(counting.map((f) => [f.id, join(PROJECT_ROOT, f.handler)]));
  const powertools = await bundle(entries, join(dir, 'powertools'), [swap(EMITTER, variant('powertools-metrics.ts'))]);
  const lean = await bundle(entries, join(dir, 'powertools-lean'), [swap(EMITTER, variant('powertools-metrics.ts')), leanCommons]);
  const metricsCode = (input: string) => /functions\/(?:adapters\/emf-metrics|wiring\/metrics|middleware\/metrics)\.ts$/.test(input);
  return counting.map((f) => {
    const shipped = all.get(f.id)!;
    const pt = powertools.get(f.id)!;
    const ptLean = lean.get(f.id)!;
    return {
      id: f.id,
      handler: f.handler,
      bytes: shipped.bytes,
      kb: kib(shipped.bytes),
      headroomBytes: MAX_BYTES - shipped.bytes,
      /** Our emitter, its composition root and the flush middleware. */
      metricsCodeBytes: bytesOf(shipped.metafile, f.id, metricsCode),
      powertools: { bytes: pt.bytes, kb: kib(pt.bytes), overShipped: pt.bytes - shipped.bytes, fits: pt.bytes <= MAX_BYTES },
      powertoolsLean: { bytes: ptLean.bytes, kb: kib(ptLean.bytes), overShipped: ptLean.bytes - shipped.bytes, fits: ptLean.bytes <= MAX_BYTES },
    };
  });
}

// ---- 2. Tracer: cold start ------------------------------------------------------------------------

/** Runs in the child: import, first invocation, a warm one; prints the timings as its last line. */
const COLD_START = `
const c0 = process.cpuUsage();
const t0 = performance.now();
const mod = await import(process.argv[1]);
const t1 = performance.now();
const event = JSON.parse(process.argv[2]);
const context = { awsRequestId: 'bench', functionName: 'bench', getRemainingTimeInMillis: () => 10000 };
const first = await mod.handler(event, context);
const t2 = performance.now();
const cpu = process.cpuUsage(c0);
await mod.handler(event, context);
const t3 = performance.now();
process.stdout.write('\\n' + JSON.stringify({ importMs: t1 - t0, firstInvokeMs: t2 - t1, cpuMs: (cpu.user + cpu.system) / 1000, warmInvokeMs: t3 - t2, status: first.statusCode }) + '\\n');
process.exit(0);
`;

const healthEvent = {
  version: '2.0',
  routeKey: 'GET /api/health',
  rawPath: '/api/health',
  rawQueryString: '',
  headers: {},
  isBase64Encoded: false,
  requestContext: { requestId: 'bench', http: { method: 'GET', path: '/api/health', sourceIp: '127.0.0.1' } },
};

interface ColdStart {
  importMs: number;
  firstInvokeMs: number;
  /** CPU time (user + system, all threads) of import + first invocation: what a shared machine's waiting leaves out. */
  cpuMs: number;
  warmInvokeMs: number;
  status: number;
}

const run = promisify(execFile);

async function coldStart(file: string, env: NodeJS.ProcessEnv): Promise<ColdStart> {
  const { stdout } = await run(
    process.execPath,
    ['--enable-source-maps', '--input-type=module', '-e', COLD_START, pathToFileURL(file).href, JSON.stringify(healthEvent)],
    {
      env,
      encoding: 'utf8',
    },
  );
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as ColdStart;
  if (result.status !== 200) throw new Error(`${file}: GetHealth answered ${result.status}, so DynamoDB (the stub) was not reached`);
  return result;
}

async function tracerColdStart(dir: string) {
  const entry = { GetHealth: join(PROJECT_ROOT, 'functions/http/system/get-health.ts') };
  const plain = (await bundle(entry, join(dir, 'plain'))).get('GetHealth')!;
  const traced = (await bundle(entry, join(dir, 'traced'), [swap(DB, variant('traced-db.ts'))])).get('GetHealth')!;
  const tracerBytes = (input: string) =>
    /node_modules\/(?:@aws-lambda-powertools\/|aws-xray-sdk-core\/|cls-hooked\/|semver\/|atomic-batcher\/|@aws\/lambda-invoke-store\/|async-hook-jl\/|emitter-listener\/|shimmer\/|stack-chain\/)/.test(
      input,
    );

  // A stub DynamoDB (every call answers {}: GetItem finds nothing, which is what the probe expects)
  // and a stand-in X-Ray daemon that counts the subsegments traced runs send.
  const dynamo = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}'));
  });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', resolve));
  const daemon = createSocket('udp4');
  let dynamoSubsegments = 0;
  daemon.on('message', (packet) => {
    if (/"name":"DynamoDB"/.test(packet.toString('utf8'))) dynamoSubsegments++;
  });
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  const ports = { dynamo: (dynamo.address() as { port: number }).port, daemon: daemon.address().port };

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NEXCHAT_STAGE: 'bench',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    LOG_LEVEL: 'SILENT',
    DYNAMODB_ENDPOINT: `http://127.0.0.1:${ports.dynamo}`,
    ...Object.fromEntries(tables.map((t) => [t.envVar, `bench-${t.id}`])),
    // What Lambda sets with active tracing; AWS_LAMBDA_FUNCTION_NAME stays unset, or config would
    // refuse the stub's endpoint (a local-only setting).
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    LAMBDA_TASK_ROOT: dir,
    _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${ports.daemon}`,
    AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
  };
  const cases = {
    plain: () => coldStart(plain.file, env),
    tracerDynamoOnly: () => coldStart(traced.file, env),
    tracerDefaults: () => coldStart(traced.file, { ...env, BENCH_TRACER: 'defaults' }),
  } as const;
  type Case = keyof typeof cases;
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, [] as ColdStart[]])) as Record<Case, ColdStart[]>;
  const subsegments: Record<Case, number> = { plain: 0, tracerDynamoOnly: 0, tracerDefaults: 0 };
  console.log(`timing GetHealth cold starts, plain and with Tracer, ${RUNS} rounds (+1 warm-up), ${process.version}...`);
  try {
    for (let i = 0; i <= RUNS; i++) {
      // rotated each round, so no case always runs first (right after the parent's own work)
      const keys = Object.keys(cases) as Case[];
      for (const k of [...keys.slice(i % keys.length), ...keys.slice(0, i % keys.length)]) {
        const before = dynamoSubsegments;
        const sample = await cases[k]();
        await new Promise((resolve) => setTimeout(resolve, 20)); // the last datagrams
        subsegments[k] += dynamoSubsegments - before;
        if (i > 0) samples[k].push(sample);
      }
    }
  } finally {
    dynamo.close();
    daemon.close();
  }
  if (subsegments.plain !== 0) throw new Error('the plain bundle sent X-Ray subsegments');
  for (const k of ['tracerDynamoOnly', 'tracerDefaults'] as const) {
    // at least the first call's (the warm call's datagram may still be queued when the child exits)
    if (subsegments[k] < RUNS + 1) throw new Error(`${k}: ${subsegments[k]} DynamoDB subsegments in ${RUNS + 1} runs: Tracer was not active`);
  }

  const total = (s: ColdStart) => s.importMs + s.firstInvokeMs;
  const stats = (k: Case) => ({
    importMs: summarize(samples[k].map((s) => s.importMs)),
    firstInvokeMs: summarize(samples[k].map((s) => s.firstInvokeMs)),
    coldStartMs: summarize(samples[k].map(total)),
    coldStartCpuMs: summarize(samples[k].map((s) => s.cpuMs)),
    warmInvokeMs: summarize(samples[k].map((s) => s.warmInvokeMs)),
  });
  const vsPlain = (k: Case) => {
    const perRound = samples[k].map((s, i) => total(s) - total(samples.plain[i]!));
    const addedMs = round(median(perRound));
    const addedCpuMs = round(median(samples[k].map((s, i) => s.cpuMs - samples.plain[i]!.cpuMs)));
    return {
      /** Median over rounds of (this case's cold start minus the plain one's in the same round). */
      addedColdStartMs: addedMs,
      addedColdStartMsPerRound: summarize(perRound),
      /** Ratio of the medians. */
      ratio: round(median(samples[k].map(total)) / median(samples.plain.map(total)), 2),
      /** The same for CPU time, which the waiting of a shared machine does not inflate. */
      addedColdStartCpuMs: addedCpuMs,
      cpuRatio: round(median(samples[k].map((s) => s.cpuMs)) / median(samples.plain.map((s) => s.cpuMs)), 2),
      /** Fastest against fastest: the least disturbed samples of a shared, noisy machine. */
      addedColdStartMsAtMin: round(Math.min(...samples[k].map(total)) - Math.min(...samples.plain.map(total))),
      /** Rounds in which this case's cold start was the slower one. */
      slowerInRounds: perRound.filter((d) => d > 0).length,
      addedWarmInvokeMs: round(median(samples[k].map((s, i) => s.warmInvokeMs - samples.plain[i]!.warmInvokeMs))),
      /** Both the wall-clock and the CPU-time estimate under the budget. */
      withinBudget: addedMs < TRACER_BUDGET_MS && addedCpuMs < TRACER_BUDGET_MS,
    };
  };
  return {
    route: 'GetHealth',
    budgetMs: TRACER_BUDGET_MS,
    runs: RUNS,
    bundles: {
      plain: { bytes: plain.bytes, kb: kib(plain.bytes) },
      traced: {
        bytes: traced.bytes,
        kb: kib(traced.bytes),
        addedBytes: traced.bytes - plain.bytes,
        tracerAndXrayBytes: bytesOf(traced.metafile, 'GetHealth', tracerBytes),
      },
    },
    dynamoSubsegmentsSent: subsegments,
    cases: { plain: stats('plain'), tracerDynamoOnly: stats('tracerDynamoOnly'), tracerDefaults: stats('tracerDefaults') },
    tracerDynamoOnly: vsPlain('tracerDynamoOnly'),
    tracerDefaults: vsPlain('tracerDefaults'),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nexchat-observability-'));
  try {
    const metrics = await metricsBundles(dir);
    console.log(
      formatTable(metrics, [
        { header: 'function', value: (r) => r.id },
        { header: 'KB shipped', value: (r) => r.kb.toFixed(1), align: 'right' },
        { header: 'headroom B', value: (r) => r.headroomBytes, align: 'right' },
        { header: 'metrics code B', value: (r) => r.metricsCodeBytes, align: 'right' },
        { header: 'KB Powertools', value: (r) => r.powertools.kb.toFixed(1), align: 'right' },
        { header: '+B', value: (r) => r.powertools.overShipped, align: 'right' },
        { header: 'fits', value: (r) => (r.powertools.fits ? 'yes' : 'NO') },
        { header: 'KB PT lean', value: (r) => r.powertoolsLean.kb.toFixed(1), align: 'right' },
        { header: '+B', value: (r) => r.powertoolsLean.overShipped, align: 'right' },
        { header: 'fits', value: (r) => (r.powertoolsLean.fits ? 'yes' : 'NO') },
      ]),
    );
    const tracer = await tracerColdStart(dir);
    const line = (name: string, c: typeof tracer.tracerDynamoOnly) =>
      `${name}: ${signed(c.addedColdStartMs)} ms cold start (median of per-round differences; ${signed(c.addedColdStartMsAtMin)} ms fastest vs fastest; ` +
      `slower in ${c.slowerInRounds}/${RUNS} rounds), x${c.ratio} of the plain median; CPU ${signed(c.addedColdStartCpuMs)} ms (x${c.cpuRatio}); ` +
      `${signed(c.addedWarmInvokeMs)} ms warm invocation: ${c.withinBudget ? 'within' : 'OVER'} the ${TRACER_BUDGET_MS} ms budget`;
    console.log(
      `\nGetHealth cold start (import + first invocation), p50 of ${RUNS}: plain ${tracer.cases.plain.coldStartMs.median} ms ` +
        `(import ${tracer.cases.plain.importMs.median}, first call ${tracer.cases.plain.firstInvokeMs.median}); ` +
        `Tracer on DynamoDB ${tracer.cases.tracerDynamoOnly.coldStartMs.median} ms; Tracer defaults ${tracer.cases.tracerDefaults.coldStartMs.median} ms. ` +
        `CPU p50: plain ${tracer.cases.plain.coldStartCpuMs.median} ms, Tracer on DynamoDB ${tracer.cases.tracerDynamoOnly.coldStartCpuMs.median} ms, ` +
        `Tracer defaults ${tracer.cases.tracerDefaults.coldStartCpuMs.median} ms`,
    );
    console.log(line('Tracer on the DynamoDB client', tracer.tracerDynamoOnly));
    console.log(line('Tracer with its defaults', tracer.tracerDefaults));
    console.log(`Tracer bundle: ${tracer.bundles.traced.kb} KB (+${kib(tracer.bundles.traced.addedBytes)} KB over ${tracer.bundles.plain.kb} KB)`);
    const path = writeResults('observability.json', {
      benchmark: 'observability',
      ...environment(),
      method:
        'Sizes: every function bundled with lib/bundling.ts options; the counting ones (those holding functions/adapters/emf-metrics.ts) again with ' +
        'bench/variants/powertools-metrics.ts in its place, and with the commons root cut down (bench/variants/powertools-commons-lean.ts). ' +
        'Tracer: GetHealth bundled as shipped and with bench/variants/traced-db.ts in place of functions/adapters/dynamodb/db.ts; each sample a fresh ' +
        'Node process (--enable-source-maps) that imports the bundle and invokes the handler twice against a stub DynamoDB on localhost, with a sampled ' +
        'X-Ray trace header and Lambda-mode X-Ray SDK; the daemon address is a UDP socket of this process, which checks each traced run sent its DynamoDB ' +
        'subsegments. coldStartMs = importMs + firstInvokeMs; coldStartCpuMs = process.cpuUsage() over the same span. Cases round-robin after one ' +
        'warm-up round, the order rotated every round; added* are medians of per-round differences against plain.',
      metrics: { maxBytes: MAX_BYTES, functions: metrics },
      tracer: { ...tracer, decision: tracer.tracerDynamoOnly.withinBudget && tracer.bundles.traced.bytes <= MAX_BYTES ? 'adopt' : 'reject' },
    });
    console.log(`wrote ${path}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
