// The SDK as a package: `npm run build:client` emits ESM JavaScript and .d.ts into client/dist, which
// is self-contained (no import leaves it; packages are declared dependencies); Node 20 (the oldest the
// package supports) imports the built JavaScript and encrypts and decrypts with it; a TypeScript
// consumer without our compiler settings type-checks against the .d.ts; and the sources bundle for
// browsers (esbuild, platform browser) needing no Node built-in, no zod and no server code.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { checkSelfContained } from '../client/scripts/finish-build.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const client = join(root, 'client');

/** A Node 20 binary: the system's (npm scripts run Node 24 from node_modules/.bin, which PATH puts first). */
function findNode20(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin', '/bin'];
  for (const dir of new Set(dirs)) {
    const candidate = join(dir, 'node');
    const version = spawnSync(candidate, ['--version'], { encoding: 'utf8' }).stdout?.trim();
    if (version?.startsWith('v20.')) return candidate;
  }
  return undefined;
}

describe('the built package', { concurrency: false }, () => {
  test('npm run build:client emits a self-contained ESM package', () => {
    execFileSync('npm', ['run', '-s', 'build:client'], { cwd: root, stdio: 'pipe' });
    assert.deepEqual(checkSelfContained(), []);
    const pkg = JSON.parse(readFileSync(join(client, 'package.json'), 'utf8'));
    assert.equal(pkg.name, '@nexchat/client');
    assert.equal(pkg.type, 'module');
    assert.equal(pkg.sideEffects, false);
    assert.deepEqual(pkg.exports['.'], { types: './dist/index.d.ts', import: './dist/index.js' });
    const entry = readFileSync(join(client, 'dist/client/src/index.js'), 'utf8');
    assert.match(entry, /from "\.\/client\.js"/, 'relative imports end in .js');
    const http = readFileSync(join(client, 'dist/client/src/http.js'), 'utf8');
    assert.ok(!/contract|zod/.test(http.replace(/^\s*\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '')), 'the JavaScript names no contract module and no zod');
  });

  test('Node 20 imports client/dist/index.js and runs keys, signatures, 1:1 and file encryption', (t) => {
    const node20 = findNode20();
    if (!node20) return t.skip('no Node 20 binary on this machine (PATH, /usr/bin, /usr/local/bin)');
    const script = `
      const sdk = await import(${JSON.stringify(new URL('../client/dist/index.js', import.meta.url).href)});
      const a = sdk.generateDeviceKeys(), b = sdk.generateDeviceKeys();
      const upload = sdk.publicKeyUpload(a);
      if (!sdk.verifyPublishedKey(upload)) throw new Error('signature');
      const sealed = sdk.seal('hello from node 20', sdk.toBase64(b.box.publicKey), a);
      const opened = sdk.open(sealed, sdk.toBase64(a.box.publicKey), b);
      const bytes = new Uint8Array(100_000).map((_, i) => i % 251);
      const { blob, file } = await sdk.encryptFile(bytes, { name: 'x.bin' });
      const back = await sdk.decryptFile(blob, file);
      const same = back.length === bytes.length && back.every((v, i) => v === bytes[i]);
      let tampered = '';
      blob[5] ^= 1;
      try { await sdk.decryptFile(blob, file); } catch (e) { tampered = e.name + ':' + e.reason; }
      console.log(JSON.stringify({ version: process.version, opened, same, tampered, errors: sdk.API_ERROR_CODES.length, client: typeof sdk.NexChatClient }));
    `;
    const out = execFileSync(node20, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const result = JSON.parse(out.trim());
    assert.match(result.version, /^v20\./);
    assert.deepEqual(
      { opened: result.opened, same: result.same, tampered: result.tampered, client: result.client },
      { opened: 'hello from node 20', same: true, tampered: 'AttachmentTampered:digest', client: 'function' },
    );
    assert.ok(result.errors > 60);
  });

  test('a TypeScript consumer type-checks against the .d.ts alone (no allowImportingTsExtensions, no skipLibCheck), and call() is typed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nexchat-consumer-'));
    mkdirSync(join(dir, 'node_modules/@nexchat'), { recursive: true });
    symlinkSync(client, join(dir, 'node_modules/@nexchat/client'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2022', 'dom'],
          types: [],
          skipLibCheck: false,
        },
        files: ['app.ts'],
      }),
    );
    writeFileSync(
      join(dir, 'app.ts'),
      `import { NexChatClient, ApiError, type ApiErrorCode } from '@nexchat/client';
const client = new NexChatClient({ baseUrl: 'https://api.example.com', wsUrl: 'wss://ws.example.com', auth: 'cookie' });
export async function run(): Promise<string> {
  const group = await client.call('GetGroup', { path: { conversationId: 'gr_1' } });
  const code: ApiErrorCode = 'members_changed';
  // @ts-expect-error an unknown route id
  await client.call('NoSuchRoute', {});
  try { await client.createGroup('x'); } catch (e) { if (e instanceof ApiError && e.code === code) return 'changed'; }
  return group.members.map((m) => m.userId).join();
}
`,
    );
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { encoding: 'utf8' });
    assert.equal(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);
  });
});

describe('the browser build', () => {
  test('client/src bundles for the browser with esbuild: no Node built-in, no zod, no contract or server code', async () => {
    const result = await build({
      entryPoints: [join(client, 'src/index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      target: 'es2022',
      minify: true,
    });
    assert.deepEqual(result.errors, []);
    const inputs = Object.keys(result.metafile.inputs);
    // tweetnacl's package.json maps Node's crypto to nothing for browsers ("(disabled):crypto"): it uses self.crypto there
    // and the close-code table, plain data: the one contract module the SDK loads
    const outside = inputs.filter(
      (i) =>
        !i.startsWith('client/src/') &&
        !/(?:^|\/)node_modules\/(?:tweetnacl|@noble\/hashes)\//.test(i) &&
        i !== '(disabled):crypto' &&
        i !== 'contract/realtime/close-codes.ts',
    );
    assert.deepEqual(outside, [], 'only the SDK, tweetnacl, @noble/hashes (SHA-256 without WebCrypto) and the close-code table');
    assert.ok(inputs.some((i) => i.startsWith('client/src/realtime.ts')));
    const code = result.outputFiles[0]!.text;
    assert.ok(!/\brequire\(|\bBuffer\b|\bprocess\.|["']node:/.test(code.replace(/\/\/.*$/gm, '')), 'no require, Buffer, process or node: in the bundle');
    assert.ok(code.length < 90_000, `minified bundle ${code.length} bytes (tweetnacl is about 30 KB of it, @noble/hashes' SHA-2 about 8 KB)`);
  });

  test('esbuild refuses a Node built-in for platform browser (so the check above can fail)', async () => {
    await assert.rejects(
      build({
        stdin: { contents: "import { readFileSync } from 'node:fs'; console.log(readFileSync);", resolveDir: client },
        bundle: true,
        platform: 'browser',
        write: false,
        logLevel: 'silent',
      }),
    );
  });

  test('the sources name no Node-only global or module', () => {
    const sources = readdirSync(join(client, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    assert.ok(sources.length > 10);
    const found = sources.flatMap((f) =>
      readFileSync(join(client, 'src', f), 'utf8')
        .split('\n')
        .flatMap((line, i) => (/\bBuffer\b|from 'node:|\brequire\(|\bprocess\.(?:env|versions|nextTick)/.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );
    assert.deepEqual(found, []);
  });
});
