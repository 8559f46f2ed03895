// What must never change by accident about a deployed table: its logical id and its keys. Either
// change makes CloudFormation replace the table, i.e. create a new, empty one (the old one is
// retained, orphaned). tests/infra.test.ts compares the synthesized template against a committed
// snapshot of these facts (tests/infra/tables.snapshot.json).

/** One table's identity: logical id, key schema, key attribute types, GSI key schemas. */
export interface TableIdentity {
  readonly logicalId: string;
  readonly KeySchema: unknown;
  /** Only the attributes some key (table or GSI) uses, sorted by name. */
  readonly AttributeDefinitions: readonly { AttributeName: string; AttributeType: string }[];
  /** Sorted by index name; projection and other settings are left out (they change in place). */
  readonly GlobalSecondaryIndexes: readonly { IndexName: string; KeySchema: unknown }[];
}

/** Table id (lib/tables.ts) -> its identity. */
export type TableSnapshot = Record<string, TableIdentity>;

export const SNAPSHOT_PATH = 'tests/infra/tables.snapshot.json';
export const UPDATE_ENV = 'UPDATE_TABLE_SNAPSHOT';

interface CfnTable {
  readonly Properties: {
    readonly KeySchema: { AttributeName: string }[];
    readonly AttributeDefinitions: { AttributeName: string; AttributeType: string }[];
    readonly GlobalSecondaryIndexes?: { IndexName: string; KeySchema: { AttributeName: string }[] }[];
  };
}

/** The identity of one synthesized AWS::DynamoDB::Table. */
export function tableIdentity(logicalId: string, table: CfnTable): TableIdentity {
  const p = table.Properties;
  const indexes = (p.GlobalSecondaryIndexes ?? [])
    .map((i) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema }))
    .sort((a, b) => a.IndexName.localeCompare(b.IndexName));
  const keyNames = new Set([...p.KeySchema, ...indexes.flatMap((i) => i.KeySchema as { AttributeName: string }[])].map((k) => k.AttributeName));
  const attributes = p.AttributeDefinitions.filter((a) => keyNames.has(a.AttributeName))
    .map((a) => ({ AttributeName: a.AttributeName, AttributeType: a.AttributeType }))
    .sort((a, b) => a.AttributeName.localeCompare(b.AttributeName));
  return { logicalId, KeySchema: p.KeySchema, AttributeDefinitions: attributes, GlobalSecondaryIndexes: indexes };
}

/** Every difference between the snapshot and the template, one line each; empty when they agree. */
export function tableSnapshotDiff(expected: TableSnapshot, actual: TableSnapshot): string[] {
  const problems: string[] = [];
  for (const id of Object.keys(expected)) if (!(id in actual)) problems.push(`table ${id}: in the snapshot, not in the template (removed or renamed)`);
  for (const id of Object.keys(actual)) if (!(id in expected)) problems.push(`table ${id}: in the template, not in the snapshot (new table)`);
  for (const [id, want] of Object.entries(expected)) {
    const got = actual[id];
    if (!got) continue;
    for (const field of ['logicalId', 'KeySchema', 'AttributeDefinitions', 'GlobalSecondaryIndexes'] as const) {
      const [w, g] = [JSON.stringify(want[field]), JSON.stringify(got[field])];
      if (w !== g) problems.push(`table ${id}: ${field} was ${w}, is now ${g}`);
    }
  }
  return problems;
}

/** The failure message: what differs, why it matters, how to accept it on purpose. */
export function explainTableDrift(problems: readonly string[]): string {
  return [
    'The deployed tables would change identity:',
    ...problems.map((p) => `  - ${p}`),
    'A new logical id or a changed partition/sort key makes CloudFormation create a NEW, EMPTY table',
    "(the old one is retained and orphaned, with all the data); a GSI's keys cannot change in place at all",
    '(the update fails; add a new index under a new name, backfill, then drop the old one).',
    'If that is really intended (a planned migration, or a table that was never deployed), update the',
    `snapshot deliberately: ${UPDATE_ENV}=1 node --test tests/infra.test.ts, then review and commit ${SNAPSHOT_PATH}.`,
  ].join('\n');
}
