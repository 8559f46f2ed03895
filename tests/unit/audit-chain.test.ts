// The audit log's hash chain over the in-memory moderation store: what the check says about an intact
// log, and which break it names for each way an operator with table access could tamper with it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { auditHash, GENESIS, verifyAuditChain, type AuditBreakKind } from '#core/audit-chain.ts';
import type { AuditChainPort } from '#core/ports.ts';
import { fakeWorld } from '../support/fakes.ts';

/** A log of `n` entries appended through the port, a second apart. */
async function logOf(n: number) {
  const w = fakeWorld();
  for (let i = 0; i < n; i++) {
    await w.moderation.appendAudit({
      actorId: `mod-${i}`,
      action: 'ban',
      targetUserId: `user-${i}`,
      note: `entry ${i}`,
      details: { i, hours: 24, final: true },
    });
    w.clock.advance(1000);
  }
  return w.moderation;
}

type Log = Awaited<ReturnType<typeof logOf>>;
type Stored = Log['audit'][number];

/** What an operator could do by hand: rewrite an entry and recompute its own hash so it looks sealed. */
function rehash(e: Stored) {
  e.hash = auditHash(e, e.prevHash);
}

async function expectBreak(log: AuditChainPort, kind: AuditBreakKind, key: string | undefined, message: RegExp, anchor?: string) {
  const verdict = await verifyAuditChain(log, anchor);
  assert.equal(verdict.ok, false, 'the check should fail');
  if (verdict.ok) return;
  assert.equal(verdict.break.kind, kind, verdict.break.message);
  assert.equal(verdict.break.key, key, verdict.break.message);
  assert.match(verdict.break.message, message);
  return verdict;
}

describe('audit chain', () => {
  test('the hash is pinned: a canonical form, details in any order, every field and the previous hash count', () => {
    const e = { seq: 1, auditId: '01HZZZZZZZZZZZZZZZZZZZZZZZ', at: '2025-01-01T00:00:00.000Z', actorId: 'a', action: 'ban', details: { b: 2, a: 'x' } };
    // changing the serialization breaks every stored chain: these literals make that a conscious step
    // (the hash is `printf '%s' '<canonical>' | sha256sum`, so anyone can recompute it without our code)
    const canonical = `["nexchat-audit/1",1,"01HZZZZZZZZZZZZZZZZZZZZZZZ","2025-01-01T00:00:00.000Z","a","ban",null,null,null,[["a","x"],["b",2]],"${GENESIS}"]`;
    assert.equal(createHash('sha256').update(canonical).digest('hex'), '7a97372a9fb4a1d02f9b68484ed4f826dd905a180ae24021bbf86536285af241');
    assert.equal(auditHash(e, GENESIS), '7a97372a9fb4a1d02f9b68484ed4f826dd905a180ae24021bbf86536285af241');
    assert.equal(auditHash({ ...e, details: { a: 'x', b: 2 } }, GENESIS), auditHash(e, GENESIS));
    const variants = [
      { ...e, seq: 2 },
      { ...e, actorId: 'b' },
      { ...e, note: '' },
      { ...e, targetUserId: 'u' },
      { ...e, reportId: 'r' },
      { ...e, details: { b: '2', a: 'x' } },
      { ...e, details: undefined },
    ];
    for (const v of variants) assert.notEqual(auditHash(v, GENESIS), auditHash(e, GENESIS), JSON.stringify(v));
    assert.notEqual(auditHash(e, 'f'.repeat(64)), auditHash(e, GENESIS));
  });

  test('appends link entry to entry and move the head; the API view carries no chain fields', async () => {
    const log = await logOf(5);
    assert.deepEqual(
      log.audit.map((e) => e.seq),
      [1, 2, 3, 4, 5],
    );
    assert.equal(log.audit[0]!.prevHash, GENESIS);
    for (let i = 1; i < 5; i++) assert.equal(log.audit[i]!.prevHash, log.audit[i - 1]!.hash);
    assert.deepEqual(log.auditHeadItem, { auditId: log.audit[4]!.auditId, at: log.audit[4]!.at, seq: 5, hash: log.audit[4]!.hash });
    const listed = (await log.listAudit(10)).items;
    assert.deepEqual(Object.keys(listed[0]!).sort(), ['action', 'actorId', 'at', 'auditId', 'details', 'note', 'targetUserId']);
  });

  test('an intact log verifies, with its count and head; so does an empty one', async () => {
    const log = await logOf(7);
    assert.deepEqual(await verifyAuditChain(log), {
      ok: true,
      count: 7,
      unchained: 0,
      head: { auditId: log.audit[6]!.auditId, seq: 7, hash: log.audit[6]!.hash },
    });
    assert.deepEqual(await verifyAuditChain(await logOf(0)), { ok: true, count: 0, unchained: 0 });
    // any entry's hash kept elsewhere is an anchor the chain must still hold
    assert.equal((await verifyAuditChain(log, log.audit[2]!.hash)).ok, true);
  });

  test('an edited entry is named, whichever field was changed', async () => {
    for (const edit of [
      (e: Stored) => (e.note = 'nothing happened'),
      (e: Stored) => (e.actorId = 'someone-else'),
      (e: Stored) => (e.details = { ...e.details, hours: 1 }),
      (e: Stored) => (e.at = '2020-01-01T00:00:00.000Z'),
      (e: Stored) => delete e.targetUserId,
      (e: Stored) => (e.hash = 'f'.repeat(64)),
    ]) {
      const log = await logOf(5);
      edit(log.audit[2]!);
      await expectBreak(log, 'edited', log.audit[2]!.auditId, /#3\): its fields do not match its hash/);
    }
  });

  test('an entry edited and re-hashed breaks the link to the next one', async () => {
    const log = await logOf(5);
    log.audit[1]!.note = 'rewritten';
    rehash(log.audit[1]!);
    const verdict = await expectBreak(log, 'unlinked', log.audit[2]!.auditId, new RegExp(`does not follow ${log.audit[1]!.auditId} \\(#2\\)`));
    assert.equal(verdict?.checked, 2);
  });

  test('a deleted entry is named by its place, also the newest one while the head still names it', async () => {
    const log = await logOf(6);
    log.audit.splice(2, 2);
    await expectBreak(log, 'deleted', log.audit[2]!.auditId, /entries #3-#4 are missing before entry .* \(#5\): deleted/);

    const newest = await logOf(4);
    newest.audit.pop();
    await expectBreak(newest, 'deleted', undefined, /the head names #4 .* but the newest entry is #3 .*: the newest entries were deleted/);
  });

  test('truncation that also sets the head back passes alone, and is caught against an anchor kept elsewhere', async () => {
    const log = await logOf(5);
    const anchor = log.audit[4]!.hash;
    log.audit.splice(3, 2);
    const last = log.audit[2]!;
    log.auditHeadItem = { auditId: last.auditId, at: last.at, seq: 3, hash: last.hash };
    assert.equal((await verifyAuditChain(log)).ok, true, 'without an anchor the shorter chain is consistent');
    await expectBreak(log, 'anchor', undefined, /no entry has the anchor hash/, anchor);
    // the whole log deleted with its head: an empty log, unless an anchor says otherwise
    log.audit.length = 0;
    log.auditHeadItem = undefined;
    assert.equal((await verifyAuditChain(log)).ok, true);
    await expectBreak(log, 'anchor', undefined, /no entry has the anchor hash/, anchor);
  });

  test('entries moved, inserted or replayed out of place are named', async () => {
    // a copy of entry #2 planted later, under a new key, re-hashed to look sealed
    const log = await logOf(4);
    const planted = { ...log.audit[1]!, auditId: '7ZZZZZZZZZZZZZZZZZZZZZZZZZ' };
    rehash(planted);
    log.audit.push(planted);
    await expectBreak(log, 'reordered', planted.auditId, /claims place #2 but follows #4/);

    // a forged entry inserted right after #2 (its key sorts between #2's and #3's), taking place #3
    // and linking to #2 correctly: the genuine #3 is then out of place
    const ins = await logOf(4);
    const at = ins.audit[1]!;
    const forged = { ...at, auditId: `${at.auditId}0`, seq: 3, prevHash: at.hash, note: 'forged' };
    rehash(forged);
    ins.audit.push(forged);
    await expectBreak(ins, 'reordered', ins.audit[2]!.auditId, new RegExp(`claims place #3 but follows #3 \\(${forged.auditId}\\)`));
  });

  test('malformed entries and heads are named: foreign attributes, nulls, missing chain fields', async () => {
    const cases: [(log: Log) => void, AuditBreakKind, RegExp][] = [
      [(log) => Object.assign(log.audit[1]!, { comment: 'x' }), 'malformed', /attributes no entry has \(comment\)/],
      [(log) => Object.assign(log.audit[1]!, { note: null }), 'malformed', /note that is not a string/],
      [(log) => Object.assign(log.audit[1]!, { details: { nested: { deep: true } } }), 'malformed', /details that are not flat/],
      [(log) => delete (log.audit[1] as Partial<Stored>).seq, 'malformed', /no place in the chain/],
      [(log) => Object.assign(log.audit[1]!, { hash: 'not-a-hash' }), 'malformed', /no prevHash or hash/],
      [(log) => (log.auditHeadItem = { auditId: 'x' }), 'head', /head item is malformed/],
    ];
    for (const [tamper, kind, message] of cases) {
      const log = await logOf(3);
      tamper(log);
      const verdict = await verifyAuditChain(log);
      assert.ok(!verdict.ok && verdict.break.kind === kind && message.test(verdict.break.message), JSON.stringify(verdict));
    }
  });

  test('the head must name the newest entry: edited, deleted, or left behind by an entry not appended through the port', async () => {
    const edited = await logOf(3);
    edited.auditHeadItem = { ...edited.auditHeadItem, hash: 'e'.repeat(64) };
    await expectBreak(edited, 'head', edited.audit[2]!.auditId, /the head names #3 .* but #3 is/);

    const deleted = await logOf(3);
    deleted.auditHeadItem = undefined;
    await expectBreak(deleted, 'head', undefined, /no head item: the head was deleted/);

    const beyond = await logOf(3);
    const last = beyond.audit[2]!;
    const extra = { ...last, auditId: '7ZZZZZZZZZZZZZZZZZZZZZZZZZ', seq: 4, prevHash: last.hash, note: 'slipped in' };
    rehash(extra);
    beyond.audit.push(extra);
    await expectBreak(beyond, 'head', undefined, /the head names #3 .* but the log goes on to #4/);

    const orphan = await logOf(0);
    orphan.auditHeadItem = { auditId: '01HZZZZZZZZZZZZZZZZZZZZZZZ', seq: 9, hash: 'a'.repeat(64) };
    await expectBreak(orphan, 'head', undefined, /no chained entry: every entry was deleted/);
  });

  test('entries from before the chain are counted apart, and only as a prefix', async () => {
    const w = fakeWorld();
    const legacy = { auditId: '01AAAAAAAAAAAAAAAAAAAAAAAA', at: '2020-01-01T00:00:00.000Z', actorId: 'old', action: 'ban' };
    w.moderation.audit.push(legacy as Stored);
    await w.moderation.appendAudit({ actorId: 'new', action: 'warn' });
    assert.deepEqual(await verifyAuditChain(w.moderation), {
      ok: true,
      count: 1,
      unchained: 1,
      head: { auditId: w.moderation.audit[1]!.auditId, seq: 1, hash: w.moderation.audit[1]!.hash },
    });
    // stripping the chain fields of a chained entry does not make it "legacy"
    const log = await logOf(3);
    const { seq: _s, prevHash: _p, hash: _h, ...bare } = log.audit[1]!;
    log.audit[1] = bare as Stored;
    await expectBreak(log, 'malformed', bare.auditId, /no place in the chain/);
  });

  test('entries appended while the check runs do not break it', async () => {
    const log = await logOf(3);
    let reads = 0;
    const racing: AuditChainPort = {
      auditHead: async () => {
        const head = await log.auditHead();
        if (reads++ === 0) for (let i = 0; i < 2; i++) await log.appendAudit({ actorId: 'late', action: 'warn' }); // after the first read
        return head;
      },
      auditEntries: () => log.auditEntries(),
    };
    const verdict = await verifyAuditChain(racing);
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
    assert.equal(verdict.ok && verdict.count, 5);
  });
});
