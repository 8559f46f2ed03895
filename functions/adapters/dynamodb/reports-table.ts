// Moderation table, the report lifecycle and audit appends (blocks are blocks-table.ts; the reads
// behind the queue, the report lists and the audit listing are report-queries.ts). Reports: REPORT#<id> / REPORT (GSI byStatus: REPORTS#<status> / <createdAt>#<id>, oldest
// first) with pointers under the reporter (MYREPORT#) and the target (REPORTED#), one
// REPORTER#<id> item per distinct reporter for auto-restriction, and REPORTKEY#<dedupe key> / ACTIVE
// naming the unresolved report that holds the key (never a resolved one). Audit: AUDIT / <ulid>, append-only and
// hash-chained (seq, prevHash, hash), with AUDIT / HEAD naming the newest entry (id, seq, hash).
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { incrementBase32, monotonicFactory } from 'ulid';
import { auditHash, GENESIS } from '#core/audit-chain.ts';
import { ServiceUnavailable } from '#core/errors.ts';
import type { ReportStatus } from '#contract/moderation/schemas.ts';
import type { AuditChainPort, AuditEntry, AuditHead, Clock, ReportRecord, ReportsPort } from '#core/ports.ts';
import { stripKeys, type Db } from './db.ts';

const newUlid = monotonicFactory();
export const reportKey = (id: string) => ({ pk: `REPORT#${id}`, sk: 'REPORT' });

const strip = <T>(item: Record<string, unknown>): T => stripKeys<T>(item);
const statusIndex = (status: ReportStatus, createdAt: string, id: string) => ({ gsi1pk: `REPORTS#${status}`, gsi1sk: `${createdAt}#${id}` });
const dedupeKeyItem = (key: string) => ({ pk: `REPORTKEY#${key}`, sk: 'ACTIVE' });
/** Sorts after every ULID (they start with 0-7): `sk < HEAD` is every entry. */
const auditHeadKey = { pk: 'AUDIT', sk: 'HEAD' };

type Step = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** The report lifecycle and the audit appends: what the sanction and reporting routes need. */
export function reportsTable(db: Db, clock: Clock): ReportsPort {
  const { doc } = db;
  const table = () => db.table('moderation');

  // ---- reports ----------------------------------------------------------------------------------

  /**
   * Writes a new report with its pointers, unless an unresolved report holds the same dedupe key
   * (same reporter, target and messages): then nothing is written and that report's id returned.
   * Only a report that counts toward auto-restriction writes `USER#target / REPORTER#reporter` with
   * its time (`countedAt`), so a later one that does not count never erases an earlier one that did,
   * and counting stays one Query (items written before this rule have no `countedAt`: never counted).
   */
  async function putReport(report: ReportRecord & { dedupeKey: string }, counts: boolean): Promise<{ created: true } | { created: false; existingId: string }> {
    try {
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: table(),
                Item: { ...dedupeKeyItem(report.dedupeKey), reportId: report.reportId },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: table(),
                Item: { ...reportKey(report.reportId), ...statusIndex(report.status, report.createdAt, report.reportId), ...report },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: table(),
                Item: { pk: `USER#${report.reporterId}`, sk: `MYREPORT#${report.createdAt}#${report.reportId}`, reportId: report.reportId },
              },
            },
            {
              Put: {
                TableName: table(),
                Item: { pk: `USER#${report.targetUserId}`, sk: `REPORTED#${report.createdAt}#${report.reportId}`, reportId: report.reportId },
              },
            },
            // only a report that counts toward auto-restriction (re)writes the reporter's item
            ...(counts
              ? [{ Put: { TableName: table(), Item: { pk: `USER#${report.targetUserId}`, sk: `REPORTER#${report.reporterId}`, countedAt: report.createdAt } } }]
              : []),
          ],
        }),
      );
      return { created: true };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException) || error.CancellationReasons?.[0]?.Code !== 'ConditionalCheckFailed') throw error;
      const active = await doc.send(new GetCommand({ TableName: table(), Key: dedupeKeyItem(report.dedupeKey), ConsistentRead: true }));
      if (!active.Item) throw new ServiceUnavailable('The report was resolved meanwhile; retry', 'conflict_retry');
      return { created: false, existingId: active.Item.reportId as string };
    }
  }

  async function getReport(reportId: string): Promise<ReportRecord | undefined> {
    const out = await doc.send(new GetCommand({ TableName: table(), Key: reportKey(reportId), ConsistentRead: true }));
    return out.Item ? strip<ReportRecord>(out.Item) : undefined;
  }

  /**
   * A report write and, optionally, what it does to the report's dedupe key, in one transaction. The
   * key steps are alternatives with exclusive conditions (the key is free or this report's / another
   * report holds it): when the chosen one's condition fails the key changed hands, and the other is
   * tried. False when the report's own condition fails; other cancellations (conflicts) are retried.
   */
  async function writeReport(write: Step, keySteps: Step[] = []): Promise<boolean> {
    let step = 0;
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        await doc.send(new TransactWriteCommand({ TransactItems: keySteps.length ? [write, keySteps[step]!] : [write] }));
        return true;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const [onReport, onKey] = (error.CancellationReasons ?? []).map((r) => r.Code);
        if (onReport === 'ConditionalCheckFailed') return false;
        if (onKey === 'ConditionalCheckFailed') step = (step + 1) % keySteps.length;
      }
    }
    throw new ServiceUnavailable('The report changed meanwhile; retry', 'conflict_retry');
  }

  /** Act on the key if it is free or this report's; else only check that another report holds it. */
  function keySteps(dedupeKey: string, reportId: string, act: 'take' | 'release'): Step[] {
    const mine = { ConditionExpression: 'attribute_not_exists(pk) OR reportId = :rid', ExpressionAttributeValues: { ':rid': reportId } };
    return [
      act === 'take'
        ? { Put: { TableName: table(), Item: { ...dedupeKeyItem(dedupeKey), reportId }, ...mine } }
        : { Delete: { TableName: table(), Key: dedupeKeyItem(dedupeKey), ...mine } },
      {
        ConditionCheck: {
          TableName: table(),
          Key: dedupeKeyItem(dedupeKey),
          ConditionExpression: 'attribute_exists(pk) AND reportId <> :rid',
          ExpressionAttributeValues: { ':rid': reportId },
        },
      },
    ];
  }

  const reportItem = (r: ReportRecord) => ({ ...reportKey(r.reportId), ...statusIndex(r.status, r.createdAt, r.reportId), ...r });

  /**
   * Moves a report from one status to another (conditional on the old one), with decision fields.
   * Resolving it also releases its dedupe key if it holds it, so a later report of the same messages
   * is a new one; if another unresolved report holds the key (see reopenReport), that one keeps it.
   */
  async function updateReport(
    report: ReportRecord,
    from: ReportStatus[],
    changes: Partial<ReportRecord> & { status: ReportStatus },
  ): Promise<ReportRecord | undefined> {
    const next = { ...report, ...changes };
    const values: Record<string, unknown> = {};
    from.forEach((s, i) => (values[`:from${i}`] = s));
    const resolving = next.status === 'actioned' || next.status === 'dismissed';
    const write: Step = {
      Put: {
        TableName: table(),
        Item: reportItem(next),
        ConditionExpression: `#st IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
        ExpressionAttributeNames: { '#st': 'status' },
        ExpressionAttributeValues: values,
      },
    };
    const written = await writeReport(write, resolving && report.dedupeKey ? keySteps(report.dedupeKey, report.reportId, 'release') : []);
    return written ? next : undefined;
  }

  /**
   * Puts `previous` back whole, conditional on the stored report still showing the claim's status,
   * decision, moderator and time, and takes the dedupe key again. If the reporter filed the same
   * report while the key was released, that newer report keeps the key (duplicates go on landing
   * there) and this one is reopened without it: both are unresolved, both can be resolved (resolving
   * releases the key only from its holder), and the key never names a resolved report.
   */
  async function reopenReport(claimed: ReportRecord, previous: ReportRecord): Promise<boolean> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const asClaimed = (['status', 'decision', 'moderatorId', 'updatedAt'] as const).map((field, i) => {
      names[`#c${i}`] = field;
      if (claimed[field] === undefined) return `attribute_not_exists(#c${i})`;
      values[`:c${i}`] = claimed[field];
      return `#c${i} = :c${i}`;
    });
    const write: Step = {
      Put: {
        TableName: table(),
        Item: reportItem(previous),
        ConditionExpression: asClaimed.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    };
    return writeReport(write, previous.dedupeKey ? keySteps(previous.dedupeKey, previous.reportId, 'take') : []);
  }

  /** Distinct users whose last report of the target that counts is at or after the given time. */
  async function distinctReporters(targetUserId: string, sinceIso: string): Promise<number> {
    let count = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(
        new QueryCommand({
          TableName: table(),
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          FilterExpression: 'countedAt >= :since',
          ExpressionAttributeValues: { ':pk': `USER#${targetUserId}`, ':p': 'REPORTER#', ':since': sinceIso },
          ConsistentRead: true, // counted right after this report's own write
          ExclusiveStartKey,
        }),
      );
      count += page.Count ?? 0;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return count;
  }

  // ---- audit ------------------------------------------------------------------------------------

  /**
   * One transaction: the entry (never overwriting) and the head, conditioned on the head read just
   * before (or on there being none), so of concurrent appends one wins and the others re-read and go
   * after it: one chain. Time and id never go back from the head's (two containers' clocks may
   * disagree), so key order, chain order and timestamps agree.
   */
  async function appendAudit(entry: Omit<AuditEntry, 'auditId' | 'at'>): Promise<AuditEntry> {
    for (let attempt = 0; attempt < 12; attempt++) {
      const head = (await doc.send(new GetCommand({ TableName: table(), Key: auditHeadKey, ConsistentRead: true }))).Item as
        (AuditHead & { at: string }) | undefined;
      const now = Math.max(clock.now(), head ? Date.parse(head.at) : 0);
      let auditId = newUlid(now);
      if (head && auditId <= head.auditId) auditId = incrementBase32(head.auditId); // same millisecond
      const full = { ...entry, auditId, at: new Date(now).toISOString() };
      const seq = (head?.seq ?? 0) + 1;
      const prevHash = head?.hash ?? GENESIS;
      const hash = auditHash({ ...full, seq }, prevHash);
      try {
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: { TableName: table(), Item: { pk: 'AUDIT', sk: auditId, ...full, seq, prevHash, hash }, ConditionExpression: 'attribute_not_exists(pk)' },
              },
              {
                Put: {
                  TableName: table(),
                  Item: { ...auditHeadKey, auditId, at: full.at, seq, hash },
                  ConditionExpression: 'attribute_not_exists(#h) OR #h = :h',
                  ExpressionAttributeNames: { '#h': 'hash' },
                  ExpressionAttributeValues: { ':h': prevHash },
                },
              },
            ],
          }),
        );
        return full;
      } catch (error) {
        // a cancelled transaction (the head moved, a conflict) re-reads, as writeReport does
        if (!(error instanceof TransactionCanceledException)) throw error;
        await new Promise((r) => setTimeout(r, Math.random() * 10 * (attempt + 1)));
      }
    }
    throw new ServiceUnavailable('The audit log is busy; retry', 'busy');
  }

  return { putReport, getReport, updateReport, reopenReport, distinctReporters, appendAudit };
}

/**
 * The audit log as stored, for the operator's tools (never bundled: no route imports it). Every item
 * under AUDIT but the head, in key order, whatever it holds: a verifier must see what was planted too.
 */
export function auditChainReader(db: Db): AuditChainPort {
  const table = () => db.table('moderation');
  return {
    async auditHead() {
      const item = (await db.doc.send(new GetCommand({ TableName: table(), Key: auditHeadKey, ConsistentRead: true }))).Item;
      return item && stripKeys<Record<string, unknown>>(item);
    },
    async *auditEntries() {
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await db.doc.send(
          new QueryCommand({
            TableName: table(),
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': 'AUDIT' },
            ConsistentRead: true,
            ExclusiveStartKey,
          }),
        );
        for (const item of page.Items ?? []) if (item.sk !== 'HEAD') yield { key: String(item.sk), item: stripKeys<Record<string, unknown>>(item) };
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    },
  };
}
