// The audit log's hash chain: every entry seals its own fields, its place and the previous entry's
// hash; a head item names the newest. The operator's check (`npm run admin -- audit verify`) walks it.
import { createHash } from 'node:crypto';
import type { AuditChainPort, AuditEntry, AuditHead } from './ports.ts';

/** The `prevHash` of entry #1. */
export const GENESIS = '0'.repeat(64);

/**
 * SHA-256 (hex) over one canonical serialization: a version tag, the place, the entry's fields in a
 * fixed order (absent ones as null; details sorted by key) and the previous hash. The check refuses
 * null and wrongly typed fields before hashing, so absent and null never meet.
 */
export const auditHash = (e: AuditEntry & { seq: number }, prevHash: string): string =>
  createHash('sha256')
    .update(
      JSON.stringify([
        'nexchat-audit/1',
        e.seq,
        e.auditId,
        e.at,
        e.actorId,
        e.action,
        e.targetUserId,
        e.reportId,
        e.note,
        e.details && Object.entries(e.details).sort(([a], [b]) => (a < b ? -1 : 1)),
        prevHash,
      ]),
    )
    .digest('hex');

/** Where the chain breaks, in the terms an operator acts on. */
export type AuditBreakKind =
  | 'edited' // an entry's fields no longer match its own hash
  | 'unlinked' // an entry's prevHash is not the previous entry's hash: one of them was rewritten and re-hashed, or replaced
  | 'deleted' // places are missing (inside the chain, or the newest ones the head still names)
  | 'reordered' // an entry claims an earlier place, or sits under another entry's key: moved or inserted
  | 'malformed' // chain fields missing or of the wrong type, null fields, attributes no entry has
  | 'head' // the head item is missing, malformed, or names something other than the newest entry
  | 'anchor'; // no entry has the hash the operator kept elsewhere

export interface AuditBreak {
  kind: AuditBreakKind;
  /** The entry's sort key, where one entry is to blame. */
  key?: string;
  message: string;
}

export type AuditVerdict =
  { ok: true; count: number; unchained: number; head?: AuditHead } | { ok: false; checked: number; unchained: number; break: AuditBreak };

const FIELDS = new Set(['auditId', 'at', 'actorId', 'action', 'targetUserId', 'reportId', 'note', 'details', 'seq', 'prevHash', 'hash']);
const isHash = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
const isPlace = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;
const short = (hash: unknown) => (typeof hash === 'string' ? `${hash.slice(0, 12)}…` : String(hash));

/** What is wrong with a stored entry's shape, if anything (its hash is checked apart). */
function shapeProblem(item: Record<string, unknown>): string | undefined {
  const foreign = Object.keys(item).filter((k) => !FIELDS.has(k));
  if (foreign.length) return `carries attributes no entry has (${foreign.join(', ')})`;
  for (const f of ['auditId', 'at', 'actorId', 'action'] as const) if (typeof item[f] !== 'string') return `has no string ${f}`;
  for (const f of ['targetUserId', 'reportId', 'note'] as const) if (f in item && typeof item[f] !== 'string') return `has a ${f} that is not a string`;
  if ('details' in item) {
    const d = item.details;
    if (typeof d !== 'object' || d === null || Array.isArray(d) || d instanceof Set) return 'has details that are not a map';
    if (Object.values(d).some((v) => !['string', 'number', 'boolean'].includes(typeof v))) return 'has details that are not flat';
  }
  if (!isPlace(item.seq)) return 'has no place in the chain (seq)';
  if (!isHash(item.prevHash) || !isHash(item.hash)) return 'has no prevHash or hash';
  return undefined;
}

function parseHead(item: Record<string, unknown> | undefined): AuditHead | undefined | 'malformed' {
  if (!item) return undefined;
  return typeof item.auditId === 'string' && isPlace(item.seq) && isHash(item.hash) ? { auditId: item.auditId, seq: item.seq, hash: item.hash } : 'malformed';
}

/**
 * Walks the log oldest first and reports the first break. The head is read before the walk (entries
 * are never deleted, so every place it names must be there, with its hash) and again after it
 * (every entry walked must be covered by it; entries appended during the walk are fine). Entries
 * without any chain field before the first chained one predate the chain: counted as `unchained`,
 * not covered. `anchor`: a head hash kept outside the table; some entry must have it.
 */
export async function verifyAuditChain(log: AuditChainPort, anchor?: string): Promise<AuditVerdict> {
  const before = parseHead(await log.auditHead());
  let unchained = 0;
  let prev: { key: string; seq: number; hash: string } | undefined;
  let anchorFound = anchor === undefined;
  const broken = (kind: AuditBreakKind, message: string, key?: string): AuditVerdict => ({
    ok: false,
    checked: prev?.seq ?? 0,
    unchained,
    break: { kind, message, ...(key === undefined ? {} : { key }) },
  });
  if (before === 'malformed') return broken('head', 'the head item is malformed (it needs auditId, seq and hash)');

  for await (const { key, item } of log.auditEntries()) {
    if (!prev && !('seq' in item) && !('prevHash' in item) && !('hash' in item)) {
      unchained++; // written before the chain began
      continue;
    }
    const name = `entry ${key}`;
    const problem = shapeProblem(item);
    if (problem) return broken('malformed', `${name} ${problem}`, key);
    const e = item as unknown as AuditEntry & { seq: number; prevHash: string; hash: string };
    if (auditHash(e, e.prevHash) !== e.hash) return broken('edited', `${name} (#${e.seq}): its fields do not match its hash: edited after it was written`, key);
    const expected = (prev?.seq ?? 0) + 1;
    if (e.seq > expected)
      return broken(
        'deleted',
        `${e.seq - expected === 1 ? `entry #${expected} is` : `entries #${expected}-#${e.seq - 1} are`} missing before ${name} (#${e.seq}): deleted`,
        key,
      );
    if (e.seq < expected) return broken('reordered', `${name} claims place #${e.seq} but follows #${expected - 1} (${prev?.key}): moved or inserted`, key);
    if (e.auditId !== key) return broken('reordered', `${name} (#${e.seq}) holds the entry ${e.auditId}: moved from its own key`, key);
    if (e.prevHash !== (prev?.hash ?? GENESIS))
      return broken(
        'unlinked',
        `${name} (#${e.seq}) does not follow ${prev ? `${prev.key} (#${prev.seq})` : 'the start'}: its prevHash is ${short(e.prevHash)}, ` +
          `${prev ? `that entry's hash ${short(prev.hash)}` : `the start is ${short(GENESIS)}`}: one of them was rewritten and re-hashed, or replaced`,
        key,
      );
    if (before && e.seq === before.seq && (e.hash !== before.hash || key !== before.auditId))
      return broken('head', `the head names #${before.seq} ${before.auditId} ${short(before.hash)}, but #${e.seq} is ${key} ${short(e.hash)}`, key);
    if (e.hash === anchor) anchorFound = true;
    prev = { key, seq: e.seq, hash: e.hash };
  }

  const after = parseHead(await log.auditHead());
  if (!prev) {
    if (before || after) return broken('head', `the head names #${before ? before.seq : '?'} but the log holds no chained entry: every entry was deleted`);
  } else {
    if (!before || !after) return broken('head', 'the log holds chained entries but no head item: the head was deleted');
    if (after === 'malformed') return broken('head', 'the head item is malformed (it needs auditId, seq and hash)');
    if (before.seq > prev.seq)
      return broken(
        'deleted',
        `the head names #${before.seq} ${before.auditId}, but the newest entry is #${prev.seq} ${prev.key}: the newest entries were deleted`,
      );
    if (after.seq < prev.seq)
      return broken(
        'head',
        `the head names #${after.seq} ${after.auditId}, but the log goes on to #${prev.seq} ${prev.key}: not appended through the API, or the head was set back`,
      );
    if (after.seq === prev.seq && (after.hash !== prev.hash || after.auditId !== prev.key))
      return broken('head', `the head names #${after.seq} ${after.auditId} ${short(after.hash)}, but the newest entry is ${prev.key} ${short(prev.hash)}`);
  }
  if (!anchorFound) return broken('anchor', `no entry has the anchor hash ${anchor}: the log was truncated or rewritten before that entry`);
  return { ok: true, count: prev?.seq ?? 0, unchained, ...(prev ? { head: { auditId: prev.key, seq: prev.seq, hash: prev.hash } } : {}) };
}
