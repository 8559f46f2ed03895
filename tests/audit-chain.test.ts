// The audit log's hash chain against DynamoDB Local: concurrent appends (through the adapter and through
// the API) form one unbroken chain, and `npm run admin -- audit verify`, run as operators run it, finds
// entries edited or deleted directly in the table, a moved head, and truncation against an anchor.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Runtime } from '../local/runtime.ts';
import { auditChainReader, reportsTable } from '../functions/adapters/dynamodb/reports-table.ts';
import { verifyAuditChain } from '../functions/core/audit-chain.ts';
import { projectRoot } from '../local/lambda.ts';
import { deployedCliEnv, request, startTestRuntime } from './support/runtime.ts';
import { bearer, signUp, type Account } from './support/identity.ts';

let rt: Runtime;
let admin: Account;
let table: string;
const doc = () => rt.db.doc;

interface Cli {
  status: number;
  stdout: string;
  stderr: string;
}

/** The operator CLI in a child process, against this runtime (its runtime.json) unless told otherwise. */
function cli(args: string[], options: { env?: NodeJS.ProcessEnv; local?: boolean } = {}): Promise<Cli> {
  const argv = [join(projectRoot, 'bin', 'admin.ts'), ...args, ...(options.local === false ? [] : ['--data-dir', rt.dataDir])];
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { encoding: 'utf8', env: options.env ?? process.env }, (error, stdout, stderr) =>
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}
const verify = (...extra: string[]) => cli(['audit', 'verify', ...extra]);

/** Every stored entry, oldest first, as the table holds it. */
async function entries(): Promise<Record<string, any>[]> {
  const out = await doc().send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk AND sk < :h',
      ExpressionAttributeValues: { ':pk': 'AUDIT', ':h': 'HEAD' },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}
const head = async () => (await doc().send(new GetCommand({ TableName: table, Key: { pk: 'AUDIT', sk: 'HEAD' }, ConsistentRead: true }))).Item!;
const putBack = (item: Record<string, unknown>) => doc().send(new PutCommand({ TableName: table, Item: item }));

before(async () => {
  rt = await startTestRuntime();
  table = rt.db.table('moderation');
  admin = await signUp(rt, { displayName: 'Ada Ops' });
  const granted = await cli(['grant', '--email', admin.email, '--role', 'admin']);
  assert.equal(granted.status, 0, granted.stderr);
});
after(async () => {
  await rt?.stop();
});

describe('audit chain', () => {
  test('ten concurrent appends through the adapter form one unbroken chain, in key order, whatever the writers’ clocks', async () => {
    const before = (await entries()).length;
    // three "containers": one module-level id factory, but three stores, one of them an hour behind
    const behind = { now: () => rt.clock.now() - 3_600_000 };
    const stores = [reportsTable(rt.db, rt.clock), reportsTable(rt.db, rt.clock), reportsTable(rt.db, behind)];
    const written = await Promise.all(
      Array.from({ length: 10 }, (_, i) => stores[i % 3]!.appendAudit({ actorId: `writer-${i}`, action: 'warn', note: `concurrent ${i}`, details: { i } })),
    );
    const stored = await entries();
    assert.equal(stored.length, before + 10);
    assert.deepEqual(
      stored.map((e) => e.seq),
      stored.map((_, i) => i + 1),
      'places 1..n, no gap, no repeat',
    );
    for (let i = 1; i < stored.length; i++) {
      assert.equal(stored[i]!.prevHash, stored[i - 1]!.hash, `#${i + 1} links to #${i}`);
      assert.ok(stored[i]!.at >= stored[i - 1]!.at, 'time never goes back along the chain');
    }
    assert.deepEqual(new Set(written.map((w) => w.auditId)), new Set(stored.slice(before).map((e) => e.auditId)));
    const h = await head();
    assert.deepEqual([h.auditId, h.seq, h.hash], [stored.at(-1)!.auditId, stored.length, stored.at(-1)!.hash]);
    assert.deepEqual(await verifyAuditChain(auditChainReader(rt.db)), {
      ok: true,
      count: stored.length,
      unchained: 0,
      head: { auditId: h.auditId, seq: h.seq, hash: h.hash },
    });
  });

  test('ten concurrent bans through the API form one unbroken chain; the API shows entries without the chain fields', async () => {
    const targets = await Promise.all(Array.from({ length: 10 }, () => signUp(rt)));
    const bans = await Promise.all(
      targets.map((t) => request(rt.httpUrl, 'POST', `/api/admin/users/${t.userId}/ban`, { headers: bearer(admin.accessToken), body: { note: 'spam wave' } })),
    );
    assert.deepEqual(
      bans.map((b) => b.status),
      targets.map(() => 200),
    );
    const listed = await request(rt.httpUrl, 'GET', '/api/admin/audit?limit=100', { headers: bearer(admin.accessToken) });
    assert.equal(listed.status, 200);
    const banned = listed.json.entries.filter((e: { action: string }) => e.action === 'ban');
    assert.equal(banned.length, 10);
    for (const e of listed.json.entries) for (const k of ['seq', 'prevHash', 'hash']) assert.equal(k in e, false, `API entry shows ${k}`);
    assert.equal(
      listed.json.entries.some((e: { auditId: string }) => e.auditId === 'HEAD'),
      false,
      'the head is not an entry',
    );

    const out = await verify();
    assert.equal(out.status, 0, out.stderr);
    const h = await head();
    assert.equal(out.stdout.trim(), `audit log intact: ${h.seq} entries; head #${h.seq} ${h.auditId} ${h.hash}`);
    assert.equal(h.seq, (await entries()).length);
  });

  test('an entry edited in the table is named; re-hashing it moves the break to the next entry; the original verifies again', async () => {
    const stored = await entries();
    const victim = stored[5]!;
    await doc().send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: 'AUDIT', sk: victim.sk },
        UpdateExpression: 'SET note = :n',
        ExpressionAttributeValues: { ':n': 'nothing to see' },
      }),
    );
    const edited = await verify();
    assert.equal(edited.status, 1, edited.stdout);
    assert.match(edited.stderr, new RegExp(`audit log BROKEN \\(edited\\): entry ${victim.sk} \\(#6\\): its fields do not match its hash`));
    assert.match(edited.stderr, /5 entries verified before the break/);

    // an operator who also recomputes the entry's own hash (the algorithm is public) breaks the next link
    const { auditHash } = await import('../functions/core/audit-chain.ts');
    const { pk: _pk, sk: _sk, ...fields } = (await doc().send(new GetCommand({ TableName: table, Key: { pk: 'AUDIT', sk: victim.sk } }))).Item!;
    await doc().send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: 'AUDIT', sk: victim.sk },
        UpdateExpression: 'SET #h = :h',
        ExpressionAttributeNames: { '#h': 'hash' },
        ExpressionAttributeValues: { ':h': auditHash(fields as any, fields.prevHash) },
      }),
    );
    const rehashed = await verify();
    assert.equal(rehashed.status, 1);
    assert.match(rehashed.stderr, new RegExp(`\\(unlinked\\): entry ${stored[6]!.sk} \\(#7\\) does not follow ${victim.sk} \\(#6\\)`));

    await putBack(victim);
    assert.equal((await verify()).status, 0);
  });

  test('a deleted entry is named by its place, the newest one too; a moved or edited head is named', async () => {
    const stored = await entries();
    const middle = stored[3]!;
    await doc().send(new DeleteCommand({ TableName: table, Key: { pk: 'AUDIT', sk: middle.sk } }));
    const gap = await verify();
    assert.equal(gap.status, 1);
    assert.match(gap.stderr, new RegExp(`\\(deleted\\): entry #4 is missing before entry ${stored[4]!.sk} \\(#5\\): deleted`));
    await putBack(middle);

    const newest = stored.at(-1)!;
    await doc().send(new DeleteCommand({ TableName: table, Key: { pk: 'AUDIT', sk: newest.sk } }));
    const truncated = await verify();
    assert.equal(truncated.status, 1);
    assert.match(
      truncated.stderr,
      new RegExp(`\\(deleted\\): the head names #${newest.seq} ${newest.sk}, but the newest entry is #${newest.seq - 1} .*: the newest entries were deleted`),
    );
    await putBack(newest);

    const h = await head();
    await putBack({ ...h, hash: 'e'.repeat(64) });
    const moved = await verify();
    assert.equal(moved.status, 1);
    assert.match(moved.stderr, new RegExp(`\\(head\\): the head names #${h.seq} ${h.auditId} eeeeeeeeeeee…, but #${h.seq} is ${h.auditId}`));
    await doc().send(new DeleteCommand({ TableName: table, Key: { pk: 'AUDIT', sk: 'HEAD' } }));
    const headless = await verify();
    assert.equal(headless.status, 1);
    assert.match(headless.stderr, /\(head\): the log holds chained entries but no head item/);
    await putBack(h);
    assert.equal((await verify()).status, 0);
  });

  test('truncation that sets the head back is caught against an exported anchor; an export holds every entry and the head', async () => {
    const exportFile = join(rt.dataDir, 'audit-export.jsonl');
    const exported = await cli(['audit', 'export', '--out', exportFile]);
    assert.equal(exported.status, 0, exported.stderr);
    const lines = readFileSync(exportFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const stored = await entries();
    const h = await head();
    assert.equal(lines.length, stored.length + 1);
    assert.deepEqual(lines.at(-1), { sk: 'HEAD', auditId: h.auditId, at: h.at, seq: h.seq, hash: h.hash });
    assert.deepEqual(
      lines.slice(0, -1).map((l) => [l.sk, l.seq, l.prevHash, l.hash, l.note]),
      stored.map((e) => [e.sk, e.seq, e.prevHash, e.hash, e.note]),
    );
    assert.match(exported.stderr, new RegExp(`exported ${stored.length} entries to .*; head #${h.seq} ${h.hash}`));
    const again = await cli(['audit', 'export', '--out', exportFile]);
    assert.equal(again.status, 1, 'an export never overwrites a file');
    assert.match(again.stderr, /cannot create .*audit-export\.jsonl: EEXIST/);
    assert.equal(readFileSync(exportFile, 'utf8').trim().split('\n').length, lines.length);

    const anchor = h.hash;
    assert.equal((await verify('--anchor', anchor)).status, 0);
    // the newest two entries deleted and the head set back to the one before: consistent on its own
    const [a, b] = stored.slice(-2);
    const keep = stored.at(-3)!;
    for (const e of [a!, b!]) await doc().send(new DeleteCommand({ TableName: table, Key: { pk: 'AUDIT', sk: e.sk } }));
    await putBack({ pk: 'AUDIT', sk: 'HEAD', auditId: keep.sk, at: keep.at, seq: keep.seq, hash: keep.hash });
    assert.equal((await verify()).status, 0, 'without an anchor a shortened chain is consistent');
    const caught = await verify('--anchor', anchor);
    assert.equal(caught.status, 1);
    assert.match(caught.stderr, new RegExp(`\\(anchor\\): no entry has the anchor hash ${anchor}`));
    for (const e of [a!, b!]) await putBack(e);
    await putBack(h);
    assert.equal((await verify('--anchor', anchor)).status, 0);
  });

  test('entries written before the chain are counted apart; a planted entry without chain fields is not', async () => {
    const legacy = {
      pk: 'AUDIT',
      sk: '01AAAAAAAAAAAAAAAAAAAAAAAA',
      auditId: '01AAAAAAAAAAAAAAAAAAAAAAAA',
      at: '2020-01-01T00:00:00.000Z',
      actorId: 'old',
      action: 'ban',
    };
    await putBack(legacy);
    const out = await verify();
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /; 1 older entries predate the chain and are not covered; head #/);
    await doc().send(new DeleteCommand({ TableName: table, Key: { pk: 'AUDIT', sk: legacy.sk } }));

    const planted = { ...legacy, sk: '7ZZZZZZZZZZZZZZZZZZZZZZZZZ', auditId: '7ZZZZZZZZZZZZZZZZZZZZZZZZZ' };
    await putBack(planted);
    const caught = await verify();
    assert.equal(caught.status, 1);
    assert.match(caught.stderr, /\(malformed\): entry 7Z{25} has no place in the chain/);
    await doc().send(new DeleteCommand({ TableName: table, Key: { pk: 'AUDIT', sk: planted.sk } }));
  });

  test('the CLI: --aws needs the moderation table; a bad anchor is refused; a deployed table verifies with AWS credentials', async () => {
    const missing = await cli(['audit', 'verify', '--aws'], { local: false });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--aws needs --moderation-table/);
    const badAnchor = await verify('--anchor', 'not-a-hash');
    assert.equal(badAnchor.status, 2);
    assert.match(badAnchor.stderr, /--anchor must be a head hash/);
    const unknown = await cli(['audit', 'rewrite']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command "audit rewrite"/);
    // the standard AWS_ENDPOINT_URL_DYNAMODB pointing at DynamoDB Local stands in for a deployed table
    const viaAws = await cli(['audit', 'verify', '--aws', '--moderation-table', table, '--region', 'us-east-1'], {
      local: false,
      env: deployedCliEnv(rt),
    });
    assert.equal(viaAws.status, 0, viaAws.stderr);
    assert.match(viaAws.stdout, /^audit log intact: \d+ entries; head #\d+ /);
  });
});
