// The second half of `npm run build:client` (after tsc -p client/tsconfig.build.json): drops the
// contract's JavaScript (the SDK imports the contract for types only; its .d.ts stay, so the package's
// types are complete), points the declarations' relative imports at .js like the JavaScript's, writes
// the entry points dist/index.js and dist/index.d.ts, and checks the result is self-contained: every
// relative import stays inside dist/ and names a file there, every package import is a dependency.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const client = fileURLToPath(new URL('../', import.meta.url));
const dist = join(client, 'dist');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

/** `from '…'`, `import '…'`, `import("…")` and `export … from '…'` specifiers. */
const specifiers = /(?:\bfrom\s*|\bimport\s*\(?\s*)(['"])([^'"]+)\1/g;

/** The JavaScript files `entry` loads, itself included (relative imports, transitively). */
function reachable(entry: string, found = new Set<string>()): Set<string> {
  if (found.has(entry)) return found;
  found.add(entry);
  for (const [, , spec] of readFileSync(entry, 'utf8').matchAll(specifiers)) if (spec!.startsWith('.')) reachable(resolve(dirname(entry), spec!), found);
  return found;
}

export function finishBuild(): { files: number } {
  // the contract's JavaScript goes, except what the SDK loads (the close-code table, plain data)
  const loaded = reachable(join(dist, 'client/index.js'));
  for (const f of files(join(dist, 'contract'))) if (f.endsWith('.js') && !loaded.has(f)) rmSync(f);
  for (const f of files(dist).filter((f) => f.endsWith('.d.ts'))) {
    const text = readFileSync(f, 'utf8');
    const fixed = text.replace(specifiers, (all, q: string, spec: string) =>
      spec.startsWith('.') && spec.endsWith('.ts') ? all.replace(`${q}${spec}${q}`, `${q}${spec.slice(0, -3)}.js${q}`) : all,
    );
    if (fixed !== text) writeFileSync(f, fixed);
  }
  const header = '// @nexchat/client: the entry point (the build puts the SDK under dist/client/ and the contract’s types under dist/contract/).\n';
  writeFileSync(join(dist, 'index.js'), `${header}export * from './client/index.js';\n`);
  writeFileSync(join(dist, 'index.d.ts'), `${header}export * from './client/index.js';\n`);
  const problems = checkSelfContained();
  if (problems.length) throw new Error(`client/dist is not self-contained:\n  ${problems.join('\n  ')}`);
  return { files: files(dist).length };
}

/** What in dist/ reaches outside it: relative imports leaving dist or naming no file, packages that are not dependencies. */
export function checkSelfContained(): string[] {
  const pkg = JSON.parse(readFileSync(join(client, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const deps = Object.keys(pkg.dependencies ?? {});
  const problems: string[] = [];
  for (const f of files(dist).filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))) {
    for (const [, , spec] of readFileSync(f, 'utf8').matchAll(specifiers)) {
      const where = relative(client, f);
      if (spec!.startsWith('.')) {
        const target = resolve(dirname(f), spec!);
        const candidates = f.endsWith('.d.ts') ? [target.replace(/\.js$/, '.d.ts')] : [target];
        if (relative(dist, target).startsWith('..')) problems.push(`${where}: ${spec} leaves dist/`);
        else if (!candidates.some((c) => statSync(c, { throwIfNoEntry: false })?.isFile())) problems.push(`${where}: ${spec} names no file`);
        else if (spec!.endsWith('.ts')) problems.push(`${where}: ${spec} keeps a .ts extension`);
      } else {
        const name = spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!;
        if (!deps.includes(name)) problems.push(`${where}: ${spec} is not a dependency of @nexchat/client`);
      }
    }
  }
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { files: n } = finishBuild();
  console.log(`client/dist: ${n} files`);
}
