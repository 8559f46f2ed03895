// What the fuzz and authorization suites share: a raw HTTP client (bodies on GET, any content type,
// no URL clean-up), the error-answer check every 4xx must pass, a snapshot of every table to prove
// nothing was written, role grants as the admin CLI makes them, and a seed per route.
import { Agent, request as httpRequest } from 'node:http';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Runtime } from '../../local/runtime.ts';
import { tables } from '../../lib/tables.ts';
import type { Account } from '../support/identity.ts';

const agent = new Agent({ keepAlive: true, maxSockets: 32 });

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** One HTTP request exactly as given: method, path (already encoded), headers and body bytes. */
export function send(base: string, method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<RawReply> {
  const url = new URL(base);
  // Node writes a GET or DELETE body without framing unless told its length: say it always.
  const framed = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers: framed, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** API Gateway's own answers (throttling, no route) carry `{ message }`, not our error body. */
export function isGatewayAnswer(r: { json: any }): boolean {
  return r.json && typeof r.json === 'object' && typeof r.json.message === 'string' && !('error' in r.json);
}

/** Why an error answer breaks the API's promises (shape, headers, no internals), or undefined if it keeps them. */
export function errorAnswerProblem(r: RawReply): string | undefined {
  if (r.status >= 500) return `a ${r.status}`;
  if (r.status < 400) return `accepted with ${r.status}`;
  const body = r.json;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return `body is not a JSON object: ${r.text.slice(0, 200)}`;
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'error') return `body keys ${JSON.stringify(keys)}, expected only "error"`;
  const e = body.error;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string' || !e.code || typeof e.message !== 'string') return `error shape: ${r.text.slice(0, 200)}`;
  const extra = Object.keys(e).filter((k) => !['code', 'message', 'details'].includes(k));
  if (extra.length) return `error has keys ${JSON.stringify(extra)}`;
  if (/\n\s+at |node_modules|\.ts:\d+/.test(r.text)) return `leaks internals: ${r.text.slice(0, 200)}`;
  const hsts = /max-age=(\d+)/.exec(String(r.headers['strict-transport-security'] ?? ''));
  if (!hsts || Number(hsts[1]) < 365 * 24 * 3600) return `Strict-Transport-Security: ${r.headers['strict-transport-security']}`;
  if (r.headers['x-content-type-options'] !== 'nosniff') return `X-Content-Type-Options: ${r.headers['x-content-type-options']}`;
  if (!/\bno-store\b/.test(String(r.headers['cache-control'] ?? ''))) return `Cache-Control: ${r.headers['cache-control']}`;
  return undefined;
}

// ---- nothing written ------------------------------------------------------------------------------

/** Rate-limit counters (RL#...) count requests, bad ones too: the only items a refused request may write. */
export const isRateLimitCounter = (item: Record<string, unknown>) => typeof item.pk === 'string' && item.pk.startsWith('RL#');

/** Every item of every table (rate-limit counters excepted), as sorted JSON lines per table. */
export async function snapshot(rt: Runtime): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  await Promise.all(
    tables.map(async (t) => {
      const items: Record<string, unknown>[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await rt.db.doc.send(new ScanCommand({ TableName: rt.db.table(t.id), ExclusiveStartKey: start }));
        items.push(...((page.Items ?? []) as Record<string, unknown>[]));
        start = page.LastEvaluatedKey;
      } while (start);
      out[t.id] = items
        .filter((i) => !isRateLimitCounter(i))
        .map((i) => JSON.stringify(Object.fromEntries(Object.entries(i).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))))
        .sort();
    }),
  );
  return out;
}

export interface Change {
  table: string;
  sign: '+' | '-';
  item: Record<string, any>;
}

/** The items added (+) and removed (-) between two snapshots, per table; a changed item is both. */
export function snapshotDiff(before: Record<string, string[]>, after: Record<string, string[]>): Change[] {
  const out: Change[] = [];
  for (const table of Object.keys(after)) {
    const was = new Set(before[table] ?? []);
    const now = new Set(after[table]);
    for (const i of now) if (!was.has(i)) out.push({ table, sign: '+', item: JSON.parse(i) });
    for (const i of was) if (!now.has(i)) out.push({ table, sign: '-', item: JSON.parse(i) });
  }
  return out;
}

/** One line per change, for failure messages. */
export function showChanges(changes: readonly Change[]): string[] {
  return changes.map((c) => `${c.table} ${c.sign} ${JSON.stringify(c.item).slice(0, 400)}`);
}

// ---- accounts -------------------------------------------------------------------------------------

/**
 * Grants a role the way the operator CLI does (`npm run admin -- grant`: the role on the user, then an
 * audit entry), through the runtime's own composition root in this process: no CLI process to start.
 */
export async function grantRole(account: Account, role: 'user' | 'moderator' | 'admin'): Promise<void> {
  const { users } = await import('../../functions/wiring/auth.ts');
  const { moderationStore } = await import('../../functions/wiring/stores.ts');
  const user = await users().get(account.userId);
  if (!user) throw new Error(`no account ${account.userId}`);
  await users().update(account.userId, { role });
  await moderationStore().appendAudit({
    actorId: 'cli:test',
    action: 'grant_role',
    targetUserId: account.userId,
    note: `role ${role} granted by the test`,
    details: { role, previousRole: user.role },
  });
}

// ---- seeds ----------------------------------------------------------------------------------------

/** A stable 31-bit seed per name, so each route gets its own fixed stream of cases. */
export function seedFor(base: number, name: string): number {
  let h = base | 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + name.charCodeAt(i)) | 0;
  return h & 0x7fffffff;
}
