// Moderation table, reports and audit (blocks are blocks-table.ts). Reports: REPORT#<id> / REPORT (GSI byStatus: REPORTS#<status> / <createdAt>#<id>, oldest
// first) with pointers under the reporter (MYREPORT#) and the target (REPORTED#), and one
// REPORTER#<id> item per distinct reporter for auto-restriction. Audit: AUDIT / <ulid>, append-only.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { ServiceUnavailable } from '#core/errors.ts';
import type { ReportStatus } from '#contract/moderation/schemas.ts';
import type { AuditEntry, Clock, ModerationPort, ReportRecord } from '#core/ports.ts';
import { cursors, decodeCursor, encodeCursor } from './cursor.ts';
import { stripKeys, type Db } from './db.ts';

const newUlid = monotonicFactory();
const reportKey = (id: string) => ({ pk: `REPORT#${id}`, sk: 'REPORT' });

const strip = <T>(item: Record<string, unknown>): T => stripKeys<T>(item);
const statusIndex = (status: ReportStatus, createdAt: string, id: string) => ({ gsi1pk: `REPORTS#${status}`, gsi1sk: `${createdAt}#${id}` });
const dedupeKeyItem = (key: string) => ({ pk: `REPORTKEY#${key}`, sk: 'ACTIVE' });

export function reportsTable(db: Db, clock: Clock): ModerationPort {
  const { doc } = db;
  const table = () => db.table('moderation');

  // ---- reports ----------------------------------------------------------------------------------

  /**
   * Writes a new report with its pointers, unless an unresolved report holds the same dedupe key
   * (same reporter, target and messages): then nothing is written and that report's id returned.
   */
  async function putReport(report: ReportRecord & { dedupeKey: string }): Promise<{ created: true } | { created: false; existingId: string }> {
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
            {
              Put: {
                TableName: table(),
                Item: {
                  pk: `USER#${report.targetUserId}`,
                  sk: `REPORTER#${report.reporterId}`,
                  reporterId: report.reporterId,
                  lastReportedAt: report.createdAt,
                },
              },
            },
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

  async function reportsByIds(ids: string[]): Promise<ReportRecord[]> {
    const found = new Map<string, ReportRecord>();
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Record<string, unknown>[] = ids.slice(i, i + 100).map(reportKey);
      while (keys.length) {
        const out = await doc.send(new BatchGetCommand({ RequestItems: { [table()]: { Keys: keys } } }));
        for (const item of out.Responses?.[table()] ?? []) found.set(item.reportId as string, strip<ReportRecord>(item));
        keys = (out.UnprocessedKeys?.[table()]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return ids.flatMap((id) => (found.has(id) ? [found.get(id)!] : []));
  }

  /** A user's pointers (MYREPORT# or REPORTED#), newest first, resolved to reports. */
  async function reportsOf(userId: string, which: 'filed' | 'about', limit: number, cursorText?: string) {
    const prefix = which === 'filed' ? 'MYREPORT#' : 'REPORTED#';
    const cursor = decodeCursor(cursorText, which === 'filed' ? cursors.myReports(userId) : cursors.reportsAbout(userId));
    const out = await doc.send(
      new QueryCommand({
        TableName: table(),
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': `USER#${userId}`, ':p': prefix },
        ScanIndexForward: false,
        Limit: limit,
        ...(cursor ? { ExclusiveStartKey: cursor } : {}),
      }),
    );
    return { items: await reportsByIds((out.Items ?? []).map((i) => i.reportId as string)), cursor: encodeCursor(out.LastEvaluatedKey) };
  }

  async function reportQueue(status: ReportStatus, reason: string | undefined, limit: number, cursorText?: string) {
    const cursor = decodeCursor(cursorText, cursors.queue(status));
    const out = await doc.send(
      new QueryCommand({
        TableName: table(),
        IndexName: 'byStatus',
        KeyConditionExpression: 'gsi1pk = :s',
        ...(reason ? { FilterExpression: 'reason = :r' } : {}),
        ExpressionAttributeValues: { ':s': `REPORTS#${status}`, ...(reason ? { ':r': reason } : {}) },
        ScanIndexForward: true,
        Limit: limit,
        ...(cursor ? { ExclusiveStartKey: cursor } : {}),
      }),
    );
    return { items: (out.Items ?? []).map((i) => strip<ReportRecord>(i)), cursor: encodeCursor(out.LastEvaluatedKey) };
  }

  /**
   * Moves a report from one status to another (conditional on the old one), with decision fields.
   * Resolving it also releases its dedupe key, so a later report of the same messages is a new one.
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
    try {
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: table(),
                Item: { ...reportKey(report.reportId), ...statusIndex(next.status, next.createdAt, next.reportId), ...next },
                ConditionExpression: `#st IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
                ExpressionAttributeNames: { '#st': 'status' },
                ExpressionAttributeValues: values,
              },
            },
            ...(resolving && report.dedupeKey
              ? [
                  {
                    Delete: {
                      TableName: table(),
                      Key: dedupeKeyItem(report.dedupeKey),
                      ConditionExpression: 'attribute_not_exists(pk) OR reportId = :rid',
                      ExpressionAttributeValues: { ':rid': report.reportId },
                    },
                  },
                ]
              : []),
          ],
        }),
      );
      return next;
    } catch (error) {
      if (error instanceof TransactionCanceledException) return undefined;
      throw error;
    }
  }

  /** Distinct users who reported the target since the given time. */
  async function distinctReporters(targetUserId: string, sinceIso: string): Promise<number> {
    let count = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(
        new QueryCommand({
          TableName: table(),
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          FilterExpression: 'lastReportedAt >= :since',
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
   * Append-only: a new time-ordered key every time, and a condition that never overwrites. The
   * entry's time is the moment it is written, so the log's order and its timestamps agree.
   */
  async function appendAudit(entry: Omit<AuditEntry, 'auditId' | 'at'>): Promise<AuditEntry> {
    const now = clock.now();
    const full = { ...entry, auditId: newUlid(now), at: new Date(now).toISOString() };
    await doc.send(new PutCommand({ TableName: table(), Item: { pk: 'AUDIT', sk: full.auditId, ...full }, ConditionExpression: 'attribute_not_exists(pk)' }));
    return full;
  }

  async function listAudit(limit: number, cursorText?: string) {
    const cursor = decodeCursor(cursorText, cursors.audit());
    const out = await doc.send(
      new QueryCommand({
        TableName: table(),
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'AUDIT' },
        ScanIndexForward: false,
        Limit: limit,
        ...(cursor ? { ExclusiveStartKey: cursor } : {}),
      }),
    );
    return { items: (out.Items ?? []).map((i) => strip<AuditEntry>(i)), cursor: encodeCursor(out.LastEvaluatedKey) };
  }

  return {
    putReport,
    getReport,
    updateReport,
    distinctReporters,
    reportsOf,
    reportQueue,
    appendAudit,
    listAudit,
  };
}
