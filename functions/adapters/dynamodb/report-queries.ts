// Moderation table, the reads behind the moderation queue, a user's report lists and the audit
// listing: apart from the report lifecycle (reports-table.ts) so that the routes that decide and
// sanction do not bundle them. Every cursor is checked against the caller's own key shape.
import { BatchGetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ReportStatus } from '#contract/moderation/schemas.ts';
import type { AuditEntry, ReportQueriesPort, ReportRecord } from '#core/ports.ts';
import { cursors, decodeCursor, encodeCursor } from './cursor.ts';
import { stripKeys, type Db } from './db.ts';
import { reportKey } from './reports-table.ts';

const strip = <T>(item: Record<string, unknown>): T => stripKeys<T>(item);

export function reportQueries(db: Db): ReportQueriesPort {
  const { doc } = db;
  const table = () => db.table('moderation');

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

  async function listAudit(limit: number, cursorText?: string) {
    const cursor = decodeCursor(cursorText, cursors.audit());
    const out = await doc.send(
      new QueryCommand({
        TableName: table(),
        KeyConditionExpression: 'pk = :pk AND sk < :head',
        ExpressionAttributeValues: { ':pk': 'AUDIT', ':head': 'HEAD' },
        ScanIndexForward: false,
        Limit: limit,
        ...(cursor ? { ExclusiveStartKey: cursor } : {}),
      }),
    );
    return { items: (out.Items ?? []).map((i) => stripKeys<AuditEntry>(i, ['seq', 'prevHash', 'hash'])), cursor: encodeCursor(out.LastEvaluatedKey) };
  }

  return { reportsOf, reportQueue, listAudit };
}
