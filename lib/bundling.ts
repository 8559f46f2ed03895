// The esbuild settings every Lambda is bundled with. NodejsFunction gets them as CDK
// BundlingOptions; the benchmark gets the same settings as a plain esbuild options object, so the
// sizes and load times it reports are those of the code that ships.
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/** esbuild target; keep in step with the Lambda runtime (Runtime.NODEJS_24_X). */
export const ESBUILD_TARGET = 'node24';

/**
 * ESM output has no `require`; CommonJS dependencies bundled into it still call it (esbuild's
 * `__require` shim), so the bundle defines one. The alias avoids clashing with bundled names.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __nexchatCreateRequire } from 'node:module'; const require = __nexchatCreateRequire(import.meta.url);";

/** Prefer packages' ESM builds: they tree-shake (the AWS SDK v3 ships both). */
export const MAIN_FIELDS = ['module', 'main'];

/**
 * The SDK's default credential chain, swapped for an environment-only provider (the file says why
 * that is equivalent in Lambda); saves ~93 KB per bundle. Relative to the project root, which is
 * the directory esbuild runs in: NodejsFunction's local bundling runs it there (projectRoot), and
 * tools pass absWorkingDir = project root. esbuild resolves a relative alias target from there.
 */
export const ENV_CREDENTIALS_MODULE = './functions/adapters/aws/env-credentials.ts';
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': ENV_CREDENTIALS_MODULE,
  // Lazily imported by the SDK only for event-stream operations, which no route calls (~15 KB).
  '@smithy/core/event-streams': './functions/adapters/aws/no-event-streams.ts',
  // DynamoDB's endpoint-discovery cache, never filled here; a Map-based LRU does its job (~6.5 KB).
  'mnemonist/lru-cache': './functions/adapters/aws/small-lru.ts',
};

/** What NodejsFunction passes to esbuild for every route. */
export const lambdaBundling: BundlingOptions = {
  format: OutputFormat.ESM,
  target: ESBUILD_TARGET,
  mainFields: MAIN_FIELDS,
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  // Names are not kept: --keep-names wraps every class and function of the SDK in a naming call,
  // measured at ~23 KB per bundle. Stack traces get their names back from the source map, our errors
  // name themselves explicitly, and the SDK's exceptions set their own `name`.
  keepNames: false,
  // External .map file, read at run time through NODE_OPTIONS=--enable-source-maps. Stack traces
  // need only the mappings, not the sources, which would triple the asset for nothing.
  sourceMap: true,
  sourcesContent: false,
  // The AWS SDK v3 is bundled (tree-shaken, pinned by our lock file) rather than taken from the
  // runtime; nothing is external.
  bundleAwsSDK: true,
  externalModules: [],
  // Repeatable flag: CDK turns each item into --alias:<from>=<to>.
  esbuildArgs: { '--alias': Object.entries(BUNDLE_ALIASES).map(([from, to]) => `${from}=${to}`) },
  // Local esbuild from node_modules; never Docker.
  forceDockerBundling: false,
};

/**
 * The same bundle as plain esbuild options, for tools that call esbuild directly (bench/, tests/).
 * NodejsFunction adds `--bundle --platform=node`; they are spelled out here. Build with
 * absWorkingDir = the project root, which the alias targets are relative to.
 */
export const esbuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: ESBUILD_TARGET,
  mainFields: MAIN_FIELDS,
  banner: { js: ESM_REQUIRE_BANNER },
  minify: true,
  keepNames: false,
  sourcemap: true,
  sourcesContent: false,
  external: [],
  alias: { ...BUNDLE_ALIASES },
  outExtension: { '.js': '.mjs' },
} satisfies BuildOptions;
