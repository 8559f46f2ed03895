// Each Lambda bundles only what its route uses (house style 15). Every manifest route is bundled
// as the stack bundles it (lib/bundling.ts), all in one esbuild call, and each bundle's metafile is
// checked: no other route's contract, at most 312 KB minified, AWS clients only for the rights the
// manifest gives the route, the data files it reads shipped with it, none of the packages that
// have no business in a Lambda, and the business-metrics emitter only where metrics are counted. The
// $connect authorizer, the queue workers and the scheduled jobs are checked like routes.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { esbuildOptions } from '../lib/bundling.ts';
import { allRoutes as manifestRoutes, allScheduledJobs, allWorkers, type Route } from '../lib/routes.ts';

const PROJECT_ROOT = join(import.meta.dirname, '..');

/** Every deployed function: the manifest's routes and the $connect authorizer (no rights, no contract of its own). */
const authorizers = manifestRoutes.flatMap((r) =>
  r.kind === 'ws' && r.authorizer
    ? [
        {
          ...r,
          id: r.authorizer.id,
          handler: r.authorizer.handler,
          tables: r.authorizer.tables,
          secrets: [],
          manageConnections: false,
          notify: false,
          files: [],
        } as Route,
      ]
    : [],
);
/** Queue workers are checked like routes too (their rights come from the manifest's workers). */
const workerRoutes = allWorkers.map(
  (w) =>
    ({
      kind: 'http',
      id: w.id,
      handler: w.handler,
      tables: w.tables,
      notify: w.notify ?? false,
      manageConnections: w.manageConnections ?? false,
      files: [],
    }) as unknown as Route,
);
/** Scheduled jobs too (their tables and bucket rights come from the manifest's scheduledJobs). */
const jobRoutes = allScheduledJobs.map(
  (j) =>
    ({
      kind: 'http',
      id: j.id,
      handler: j.handler,
      tables: j.tables,
      ...(j.buckets ? { buckets: j.buckets } : {}),
      files: [],
    }) as unknown as Route,
);
const allRoutes: readonly Route[] = [...manifestRoutes, ...authorizers, ...workerRoutes, ...jobRoutes];
/** Functions without a contract module of their own. */
const authorizerIds = new Set([...authorizers, ...workerRoutes, ...jobRoutes].map((a) => a.id));

/** Data files code reads at run time: a bundle holding the reader must ship the file (lib/routes.ts `files`). */
const DATA_FILES: readonly { readonly reader: string; readonly file: string }[] = [
  { reader: 'functions/core/common-passwords.data.ts', file: 'functions/core/common-passwords.gcs' },
];
// 300 KB until attachments: naming them in the message schema brought zod's array schema (~1-2 KB) into every bundle
// that carries the message or its frames; the next shared-module growth needs a diet (docs/architecture.md)
const MAX_BYTES = 312 * 1024;

/** Contract modules every route may bundle: the shapes shared across routes and areas. */
const SHARED_CONTRACT = [
  /^contract\/route\.ts$/,
  /^contract\/shape\.ts$/,
  /^contract\/common\.ts$/,
  /^contract\/internal\//,
  /^contract\/[^/]+\/schemas\.ts$/,
  /^contract\/realtime\/frames\.ts$/,
  /^contract\/realtime\/close-codes\.ts$/,
];
/** A route's contract module, as esbuild names inputs (relative to absWorkingDir = project root). */
const ROUTE_CONTRACT = /^contract\/[^/]+\/[^/]+\.ts$/;

/** Packages a bundle may hold only when the manifest gives its route the matching right. */
const RIGHTS: readonly { readonly has: (r: Route) => boolean; readonly right: string; readonly packages: readonly string[] }[] = [
  { has: (r) => r.notify === true, right: 'notify', packages: ['@aws-sdk/client-ses', '@aws-sdk/client-sns'] },
  { has: (r) => r.manageConnections === true, right: 'manageConnections', packages: ['@aws-sdk/client-apigatewaymanagementapi'] },
  { has: (r) => (r.enqueue?.length ?? 0) > 0, right: 'enqueue', packages: ['@aws-sdk/client-sqs'] },
  { has: (r) => Object.keys(r.buckets ?? {}).length > 0, right: 'buckets', packages: ['@aws-sdk/client-s3', '@aws-sdk/s3-request-presigner'] },
];

/** Never in a Lambda bundle, whatever the route. */
const EXCLUDED: readonly { readonly what: string; readonly pattern: RegExp }[] = [
  { what: 'zod locales other than en', pattern: /node_modules\/zod\/(?:.+\/)?locales\/(?!en\.[cm]?js$)[^/]+$/ },
  {
    what: "zod's JSON-schema converter",
    pattern: /node_modules\/zod\/.+\/(?:to-json-schema|from-json-schema|json-schema-generator|json-schema-processors)\.[cm]?js$/,
  },
  { what: '@aws-lambda-powertools', pattern: /node_modules\/@aws-lambda-powertools\// },
  { what: '@aws-sdk/credential-provider-node (aliased to the env-only provider)', pattern: /node_modules\/@aws-sdk\/credential-provider-node\// },
  { what: '@zxcvbn-ts', pattern: /node_modules\/@zxcvbn-ts\// },
  { what: 'the S3 client (attachment functions sign with the S3 presigner and send with fetch)', pattern: /node_modules\/@aws-sdk\/client-s3\// },
  { what: 'a Secrets Manager client (secrets come from the Parameters and Secrets extension)', pattern: /node_modules\/@aws-sdk\/client-secrets-manager\// },
  { what: 'tweetnacl (Ed25519 checks use node:crypto)', pattern: /node_modules\/tweetnacl\// },
  {
    what: 'the event-stream serde (aliased away: no route calls an event-stream operation)',
    pattern: /node_modules\/@smithy\/core\/dist-es\/submodules\/event-streams\//,
  },
];

/**
 * The functions that count business metrics (docs/operations.md). Only their bundles hold the EMF
 * emitter (~0.8 KB with its wiring and flush), each with the flush that publishes once per invocation;
 * every other bundle holds no byte of it (its settings reader included, found by a variable it reads).
 */
const COUNTING = new Set(['PostMessage', 'PostGroupMessage', 'WsSendMessage', 'Login', 'CreateReport', 'OtpDelivery']);
const METRICS_MODULES = ['functions/adapters/emf-metrics.ts', 'functions/wiring/metrics.ts', 'functions/middleware/metrics.ts'];
const METRICS_SETTING = 'POWERTOOLS_METRICS_NAMESPACE';

/** Route contract id -> its module, found by importing every contract/<area>/<file>.ts. */
async function contractFilesById(): Promise<Map<string, string>> {
  const byId = new Map<string, string>();
  for (const area of readdirSync(join(PROJECT_ROOT, 'contract'))) {
    if (!statSync(join(PROJECT_ROOT, 'contract', area)).isDirectory()) continue;
    for (const name of readdirSync(join(PROJECT_ROOT, 'contract', area))) {
      const file = `contract/${area}/${name}`;
      if (!ROUTE_CONTRACT.test(file) || SHARED_CONTRACT.some((p) => p.test(file))) continue;
      const module = (await import(pathToFileURL(join(PROJECT_ROOT, file)).href)) as Record<string, unknown>;
      for (const value of Object.values(module)) {
        const c = value as { id?: unknown; kind?: unknown } | null;
        if (typeof c !== 'object' || c === null || typeof c.id !== 'string' || (c.kind !== 'http' && c.kind !== 'ws')) continue;
        const previous = byId.get(c.id);
        if (previous && previous !== file) throw new Error(`contract id ${c.id} is defined in both ${previous} and ${file}`);
        byId.set(c.id, file);
      }
    }
  }
  return byId;
}

interface RouteBundle {
  readonly bytes: number;
  /** Inputs that put at least one byte into the bundle, with how many. */
  readonly inputs: ReadonlyMap<string, number>;
  /** The entry module, where import chains start. */
  readonly entry: string;
  /** The minified code. */
  readonly text: string;
}

let metafile: Metafile;
const bundles = new Map<string, RouteBundle>();
let ownContract = new Map<string, string>();

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const packageOf = (input: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];

/**
 * The shortest import chain from the bundle's entry to `target`. It walks the whole build's import
 * graph (a file's imports are the same whichever entry reaches it): a bundle's own inputs leave out
 * modules that put no bytes in it, such as re-export indexes, which chains go through.
 */
function importChain(b: RouteBundle, target: string): string {
  const from = new Map<string, string>([[b.entry, '']]);
  const queue = [b.entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (file === target) break;
    for (const { path } of metafile.inputs[file]?.imports ?? []) {
      if (from.has(path) || !(path in metafile.inputs)) continue;
      from.set(path, file);
      queue.push(path);
    }
  }
  if (!from.has(target)) return target;
  const chain = [target];
  for (let at = from.get(target)!; at !== ''; at = from.get(at)!) chain.unshift(at);
  return chain.join(' -> ');
}

/** The largest packages and project files of a bundle, for failure messages. */
function topContributors(b: RouteBundle, n = 6): string {
  const packages = new Map<string, number>();
  const files: [string, number][] = [];
  for (const [input, bytes] of b.inputs) {
    const pkg = packageOf(input);
    if (pkg) packages.set(pkg, (packages.get(pkg) ?? 0) + bytes);
    else files.push([input, bytes]);
  }
  const list = (entries: [string, number][]) =>
    entries
      .sort((x, y) => y[1] - x[1])
      .slice(0, n)
      .map(([name, bytes]) => `${name} ${kb(bytes)}`)
      .join(', ');
  return `top packages: ${list([...packages])}\n  top project files: ${list(files)}`;
}

/** A bundle's inputs that `match`, largest first. */
function matching(route: Route, match: (input: string) => boolean): [string, number][] {
  return [...bundles.get(route.id)!.inputs].filter(([input]) => match(input)).sort((x, y) => y[1] - x[1]);
}

/** "entry -> ... -> input (1.2 KB)": how an input got into a route's bundle. */
function via(route: Route, [input, bytes]: [string, number]): string {
  return `${importChain(bundles.get(route.id)!, input)} (${kb(bytes)})`;
}

const total = (inputs: readonly [string, number][]) => kb(inputs.reduce((sum, [, n]) => sum + n, 0));

describe('Lambda bundles (one esbuild build of every route, lib/bundling.ts options)', () => {
  before(async () => {
    ownContract = await contractFilesById();
    const result = await build({
      ...esbuildOptions,
      absWorkingDir: PROJECT_ROOT,
      entryPoints: allRoutes.map((r) => ({ in: join(PROJECT_ROOT, r.handler), out: r.id })),
      outdir: join(tmpdir(), 'nexchat-bundles-test'),
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    metafile = result.metafile;
    for (const [path, output] of Object.entries(metafile.outputs)) {
      if (!path.endsWith('.mjs') || !output.entryPoint) continue;
      const inputs = new Map(
        Object.entries(output.inputs)
          .filter(([, v]) => v.bytesInOutput > 0)
          .map(([k, v]) => [k, v.bytesInOutput] as const),
      );
      const text = result.outputFiles.find((f) => f.path.endsWith(`/${basename(path)}`))!.text;
      bundles.set(basename(path, '.mjs'), { bytes: output.bytes, inputs, entry: output.entryPoint, text });
    }
  });

  test('the functions that count business metrics are deployed functions', () => {
    assert.deepEqual(
      [...COUNTING].filter((id) => !bundles.has(id)),
      [],
    );
  });

  test('every manifest route has a bundle and a contract module of its own', () => {
    assert.deepEqual(
      allRoutes.filter((r) => !bundles.has(r.id)).map((r) => r.id),
      [],
      'routes without a bundle',
    );
    assert.deepEqual(
      manifestRoutes.filter((r) => !ownContract.has(r.id)).map((r) => r.id),
      [],
      'routes whose id no contract/<area>/<file>.ts defines',
    );
  });

  for (const route of allRoutes) {
    describe(route.id, () => {
      test("bundles no other route's contract module", () => {
        const own = authorizerIds.has(route.id) ? undefined : ownContract.get(route.id);
        const isForeign = (input: string) => ROUTE_CONTRACT.test(input) && input !== own && !SHARED_CONTRACT.some((p) => p.test(input));
        const foreign = matching(route, isForeign).map((i) => via(route, i));
        assert.deepEqual(foreign, [], `${route.id} (${route.handler}) bundles other routes' contracts besides its own ${own}:\n  ${foreign.join('\n  ')}`);
      });

      test('is at most 312 KB minified', () => {
        const b = bundles.get(route.id)!;
        assert.ok(b.bytes <= MAX_BYTES, `${route.id} bundle is ${b.bytes} bytes (${kb(b.bytes)}), over ${MAX_BYTES} (312 KB)\n  ${topContributors(b)}`);
      });

      test('holds AWS clients only for the rights the manifest gives it', () => {
        const found: string[] = [];
        for (const { has, right, packages } of RIGHTS) {
          if (has(route)) continue;
          const inputs = matching(route, (input) => packages.includes(packageOf(input) ?? ''));
          if (inputs.length === 0) continue;
          const present = packages.filter((p) => inputs.some(([i]) => packageOf(i) === p));
          found.push(`without ${right}, yet it bundles ${present.join(', ')} (${inputs.length} files, ${total(inputs)}), e.g. ${via(route, inputs[0]!)}`);
        }
        assert.deepEqual(found, [], `${route.id} bundles AWS clients its manifest entry gives it no right to use:\n  ${found.join('\n  ')}`);
      });

      test('ships the data files its code reads, and only those', () => {
        const needed = DATA_FILES.filter((d) => bundles.get(route.id)!.inputs.has(d.reader)).map((d) => d.file);
        assert.deepEqual(
          [...(route.files ?? [])].sort(),
          needed.sort(),
          `${route.id}: lib/routes.ts \`files\` must list exactly the data files its bundle reads`,
        );
        for (const f of route.files ?? []) assert.ok(existsSync(join(PROJECT_ROOT, f)), `${f} is missing`);
      });

      if (COUNTING.has(route.id)) {
        test('holds the business-metrics emitter and the flush that publishes it once per invocation', () => {
          const b = bundles.get(route.id)!;
          assert.deepEqual(
            METRICS_MODULES.filter((m) => !b.inputs.has(m)),
            [],
            `${route.id} counts business metrics: it needs the emitter, its wiring and the flush middleware`,
          );
        });
      } else {
        test('holds no business-metrics code', () => {
          const b = bundles.get(route.id)!;
          const found = matching(route, (input) => METRICS_MODULES.includes(input)).map((i) => via(route, i));
          assert.deepEqual(found, [], `${route.id} counts no business metric, yet bundles:\n  ${found.join('\n  ')}`);
          assert.ok(!b.text.includes(METRICS_SETTING), `${route.id} bundles the metrics settings reader (loadMetricsConfig)`);
        });
      }

      test('holds none of the excluded packages', () => {
        const found: string[] = [];
        for (const { what, pattern } of EXCLUDED) {
          const inputs = matching(route, (input) => pattern.test(input));
          if (inputs.length === 0) continue;
          found.push(`${what}: ${inputs.length} files, ${total(inputs)}, largest ${via(route, inputs[0]!)}`);
        }
        assert.deepEqual(found, [], `${route.id} bundles excluded code:\n  ${found.join('\n  ')}`);
      });
    });
  }
});
