// ESLint flat config: typescript-eslint's non-type-aware `recommended` rules, plus the import
// boundaries of docs/architecture.md (STYLE.md 14) as no-restricted-imports rules. See docs/lint.md.
import { builtinModules } from 'node:module';
import { defineConfig } from 'eslint/config';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// --- Import boundaries -------------------------------------------------------------------
// Each boundary is a list of [regex, message] pairs, matched against the import specifier.
// Regexes rather than gitignore `group`s: a group line starting with `#` is a gitignore
// comment, so `group: ['#adapters/*']` would silently never match our aliases. The same
// regexes also catch dynamic `import('…')` and `typeof import('…')` (no-restricted-imports
// only sees static imports and re-exports).

/** `#name/…` package.json "imports" alias. */
const alias = (...names) => `^#(?:${names.join('|')})/`;
/** A relative path that climbs into a sibling folder, e.g. `../adapters/x.ts` or `../../lib/x.ts`. */
const up = (...dirs) => `^(?:\\.\\.?/)+(?:functions/)?(?:${dirs.join('|')})(?:/|$)`;
/** A bare package and its subpaths. */
const pkg = (...names) => `^(?:${names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})(?:/|$)`;
const nodeBuiltins = `^(?:node:|(?:${builtinModules.filter((m) => !m.startsWith('_') && !m.includes('/')).join('|')})(?:/|$))`;

const why = {
  contract:
    'contract/ is the shared API contract, bundled into every Lambda and the client SDK: it may import only zod (zod/mini, zod/locales, zod/v4/core types) and other contract/ modules.',
  core: 'functions/core holds use cases and rules over ports: no adapters, middleware, wiring, SDK, lib/ or local/; the composition root (#wiring/*) passes adapters in.',
  adapters:
    'functions/adapters implement core ports (DynamoDB tables, @connections, the OTP queue, SES/SNS, the secrets extension): they never depend on middleware, wiring, handlers or the laptop runtime.',
  handlers: 'handlers (functions/http, functions/ws) call use cases, never repositories: get dependencies from #wiring/*, not #adapters/*.',
  middleware: 'functions/middleware reaches adapters only through #wiring/*.',
  web: 'web/ is the browser app: it talks to the server only through the SDK (client/) and imports contract/ types, never server code or Node builtins.',
  lib: 'lib/ is infrastructure (CDK, route manifest): it imports nothing from functions/ (contract/ is fine).',
  client:
    'client/src is the SDK that browsers load: no Node built-ins, no project aliases; packages: tweetnacl, and @noble/hashes (SHA-256 where WebCrypto is missing); the contract and zod for types only (import type), so neither reaches its JavaScript.',
};

/** @type {Record<string, Array<[string, string]>>} */
const boundaries = {
  contract: [
    [nodeBuiltins, `No node: builtins in contract/. ${why.contract}`],
    [pkg('@aws-sdk'), `No @aws-sdk in contract/. ${why.contract}`],
    ['^zod(?!/(?:mini|locales|v4/core)$)(?:/|$)', `contract/ uses zod/mini (small bundles), zod/locales and zod/v4/core types only. ${why.contract}`],
    [`^(?![.#]|zod(?:/|$)|@aws-sdk/)(?!${nodeBuiltins.slice(1)})`, `contract/ imports no packages but zod. ${why.contract}`],
    ['^#(?!contract/)', `contract/ imports no other part of the project. ${why.contract}`],
    [up('functions', 'lib', 'local', 'bin', 'client', 'tests', 'bench', 'web'), `contract/ imports no other part of the project. ${why.contract}`],
  ],
  core: [
    [alias('adapters'), `core → adapters. ${why.core}`],
    [up('adapters'), `core → adapters. ${why.core}`],
    [alias('middleware'), `core → middleware. ${why.core}`],
    [up('middleware'), `core → middleware. ${why.core}`],
    [alias('wiring'), `core → wiring. ${why.core}`],
    [up('wiring'), `core → wiring. ${why.core}`],
    [alias('lib', 'local'), `core → lib/local. ${why.core}`],
    [up('lib', 'local'), `core → lib/local. ${why.core}`],
    [pkg('@aws-sdk', '@middy'), `core → SDK/Middy. ${why.core}`],
    [pkg('aws-cdk-lib', 'constructs'), `core → CDK. ${why.core}`],
  ],
  adapters: [
    [alias('middleware'), `adapters → middleware. ${why.adapters}`],
    [up('middleware'), `adapters → middleware. ${why.adapters}`],
    [alias('wiring'), `adapters → wiring. ${why.adapters}`],
    [up('wiring'), `adapters → wiring. ${why.adapters}`],
    [alias('http', 'ws'), `adapters → handlers. ${why.adapters}`],
    [up('http', 'ws'), `adapters → handlers. ${why.adapters}`],
    [alias('local'), `adapters → local/. ${why.adapters}`],
    [up('local'), `adapters → local/. ${why.adapters}`],
  ],
  handlers: [
    [alias('adapters'), `handler → adapters. ${why.handlers}`],
    [up('adapters'), `handler → adapters. ${why.handlers}`],
  ],
  middleware: [
    [alias('adapters'), `middleware → adapters. ${why.middleware}`],
    [up('adapters'), `middleware → adapters. ${why.middleware}`],
  ],
  web: [
    [nodeBuiltins, `No node: builtins in the browser app. ${why.web}`],
    ['^#', `No server aliases in the browser app. ${why.web}`],
    [up('functions', 'lib', 'local', 'bin', 'tests', 'bench'), `web → server code. ${why.web}`],
  ],
  lib: [
    [alias('core', 'adapters', 'middleware', 'wiring'), `lib → functions/. ${why.lib}`],
    [up('functions'), `lib → functions/. ${why.lib}`],
  ],
  client: [
    [nodeBuiltins, `No Node built-ins in the SDK. ${why.client}`],
    ['^#', `No project aliases in the SDK. ${why.client}`],
    [up('functions', 'lib', 'local', 'bin', 'tests', 'bench', 'web'), `The SDK imports no server code. ${why.client}`],
    [`^(?![.]|tweetnacl$|@noble/hashes/|zod(?:/|$))(?!${nodeBuiltins.slice(1)})`, `The SDK's only packages are tweetnacl and @noble/hashes. ${why.client}`],
  ],
};

/** Type-only imports the SDK may make (erased from its JavaScript). */
const clientTypeOnly = [
  ['^zod(?:/|$)', `zod only as \`import type\` in the SDK. ${why.client}`],
  // the close-code table (contract/realtime/close-codes.ts) is plain data: the one contract module the SDK loads
  [`${up('contract')}(?!realtime/close-codes\\.ts$)`, `The contract only as \`import type\` in the SDK (its JavaScript would pull zod in). ${why.client}`],
];

// esquery (no-restricted-syntax) regex literals end at the first `/`: spell it \x2F.
const esq = (re) => re.replaceAll('/', '\\x2F');

/** One config block that enforces a boundary for a set of files. */
function boundary(name, files) {
  const rules = boundaries[name];
  return {
    name: `nexchat/boundary/${name}`,
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...rules.map(([regex, message]) => ({ regex, message })),
            ...(name === 'client' ? clientTypeOnly.map(([regex, message]) => ({ regex, message, allowTypeImports: true })) : []),
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        ...rules.flatMap(([regex, message]) => [
          { selector: `ImportExpression > Literal.source[value=/${esq(regex)}/]`, message: `Dynamic import: ${message}` },
          { selector: `TSImportType > Literal.source[value=/${esq(regex)}/]`, message: `Type import: ${message}` },
        ]),
        ...(name === 'contract'
          ? [
              {
                selector:
                  "ImportDeclaration[importKind='value'][source.value='zod/v4/core'] > :matches(ImportSpecifier[importKind='value'], ImportDefaultSpecifier, ImportNamespaceSpecifier)",
                message: `Import only types from zod/v4/core (import type { … }). ${why.contract}`,
              },
            ]
          : []),
      ],
    },
  };
}

export default defineConfig(
  {
    name: 'nexchat/ignores',
    ignores: ['node_modules/', 'cdk.out/', '.nexchat/', 'docs/', 'bench/results/', '**/*.data.ts', 'client/dist/'],
  },
  {
    name: 'nexchat/files',
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    name: 'nexchat/tests-and-bench',
    files: ['tests/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Tests and benchmarks poke at events, mocks and raw SDK output.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    name: 'nexchat/injected-time-and-config',
    files: ['functions/core/**/*.ts', 'functions/adapters/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Take time from the injected Clock (functions/core/ports.ts), so tests can move it.' },
        { object: 'performance', property: 'now', message: 'Take time from the injected Clock (functions/core/ports.ts), so tests can move it.' },
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration from the parsed Config (functions/core/config.ts), which the composition root builds once.',
        },
      ],
    },
  },
  boundary('contract', ['contract/**/*.ts']),
  boundary('core', ['functions/core/**/*.ts']),
  boundary('adapters', ['functions/adapters/**/*.ts']),
  boundary('handlers', ['functions/http/**/*.ts', 'functions/ws/**/*.ts']),
  boundary('middleware', ['functions/middleware/**/*.ts']),
  boundary('lib', ['lib/**/*.ts']),
  boundary('web', ['web/**/*.ts']),
  boundary('client', ['client/src/**/*.ts']),
);
