// The generated API documents are valid to the tools clients use on them: Redocly's linter (with
// redocly.yaml) finds no error in the OpenAPI document, and the AsyncAPI parser none in the
// AsyncAPI one. Both check what the generator writes now; tests/manifest.test.ts checks that the
// committed files in docs/ are that output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Parser } from '@asyncapi/parser';
import { renderedDocs } from '../lib/api-docs.ts';

const root = join(import.meta.dirname, '..');
const docs = renderedDocs();
const dir = mkdtempSync(join(tmpdir(), 'nexchat-api-docs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; severity: string; message: string; location?: { pointer?: string }[] }[];
}

test('redocly lint: the OpenAPI document has no error', (t) => {
  const file = join(dir, 'openapi.json');
  writeFileSync(file, docs['openapi.json']!);
  // the CLI's own entry (node_modules/.bin/redocly), run by this test's Node (the pinned 24), whatever PATH holds
  const cli = join(root, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
  const run = spawnSync(process.execPath, [cli, 'lint', file, '--config', join(root, 'redocly.yaml'), '--format', 'json'], {
    cwd: root,
    encoding: 'utf8',
    // no telemetry and no update check: nothing leaves the machine, and no wait on a network
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
    timeout: 60_000,
  });
  assert.equal(run.error, undefined, String(run.error));
  const report = JSON.parse(run.stdout) as LintReport;
  const listed = report.problems.map((p) => `${p.severity} ${p.ruleId} ${p.location?.[0]?.pointer ?? ''}: ${p.message}`);
  for (const line of listed) t.diagnostic(line);
  assert.equal(report.totals.errors, 0, listed.join('\n'));
  assert.equal(run.status, 0, run.stderr);
});

test('the AsyncAPI parser finds no error in the AsyncAPI document', async (t) => {
  const { document, diagnostics } = await new Parser().parse(docs['asyncapi.yaml']!);
  const severity = ['error', 'warning', 'info', 'hint'];
  const listed = diagnostics.map((d) => `${severity[d.severity] ?? d.severity} ${d.code} ${d.path.join('/')}: ${d.message}`);
  for (const line of listed) t.diagnostic(line);
  assert.deepEqual(
    diagnostics.filter((d) => d.severity === 0).map((d) => `${d.code} ${d.path.join('/')}: ${d.message}`),
    [],
  );
  assert.ok(document, 'parsed');
  assert.equal(document.version(), '3.1.0');
  // the parsed document holds what the generator meant: every route's channel, the push channel, both servers
  assert.ok(document.channels().length >= 8, `${document.channels().length} channels`);
  assert.deepEqual(
    document
      .servers()
      .all()
      .map((s) => s.protocol())
      .sort(),
    ['ws', 'wss'],
  );
});
