// `npm run admin -- grant --email a@b.c --role moderator`: grants a role, writing the audit log.
// `npm run admin -- audit verify`: walks the audit log's hash chain, oldest first, and names the first
// break (exit 1); `audit export`: the log as stored, one JSON object a line, for write-once storage.
// Against the local stack (the running `npm start`, found through .nexchat/runtime.json) by default,
// or with AWS credentials against a deployed stage: --aws --users-table T --moderation-table M.
// There is deliberately no HTTP route that makes anyone a moderator or admin.
import { once } from 'node:events';
import { createWriteStream, existsSync, openSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const usage = `usage:
  npm run admin -- grant (--email E | --phone P | --user-id ID) --role user|moderator|admin [--note TEXT]
  npm run admin -- audit verify [--anchor HASH]      check the audit log's hash chain; exit 1 at the first break
                                                     (--anchor: a head hash kept elsewhere, which some entry must have)
  npm run admin -- audit export [--out FILE]         the audit log as stored, oldest first, then its head: JSON lines
                                                     (stdout by default; FILE must not exist yet)
      [--data-dir DIR]                                   local stack (default: ./.nexchat, needs npm start running)
      [--aws --users-table T --moderation-table M [--region R]]   deployed stage, AWS credentials from the environment
                                                         (audit needs only --moderation-table)`;

function fail(message: string, code = 2): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(code);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    email: { type: 'string' },
    phone: { type: 'string' },
    'user-id': { type: 'string' },
    role: { type: 'string' },
    note: { type: 'string' },
    anchor: { type: 'string' },
    out: { type: 'string' },
    'data-dir': { type: 'string' },
    aws: { type: 'boolean', default: false },
    'users-table': { type: 'string' },
    'moderation-table': { type: 'string' },
    region: { type: 'string' },
  },
});

const command = positionals.join(' ');
const auditing = command === 'audit verify' || command === 'audit export';
if (command !== 'grant' && !auditing) fail(`unknown command "${command}"`);
const role = values.role;
if (command === 'grant') {
  if (role !== 'user' && role !== 'moderator' && role !== 'admin') fail('--role must be user, moderator or admin');
  const identifiers = [values.email, values.phone, values['user-id']].filter(Boolean);
  if (identifiers.length !== 1) fail('name the account with exactly one of --email, --phone, --user-id');
}
if (values.anchor !== undefined && !/^[0-9a-f]{64}$/.test(values.anchor)) fail('--anchor must be a head hash: 64 lower-case hex digits');

if (values.aws) {
  if (auditing && !values['moderation-table']) fail('--aws needs --moderation-table (see the stack outputs)');
  if (!auditing && (!values['users-table'] || !values['moderation-table'])) fail('--aws needs --users-table and --moderation-table (see the stack outputs)');
  Object.assign(process.env, { MODERATION_TABLE: values['moderation-table'], ...(values['users-table'] ? { USERS_TABLE: values['users-table'] } : {}) });
  if (values.region) process.env.AWS_REGION = values.region;
  delete process.env.DYNAMODB_ENDPOINT;
} else {
  const dataDir = resolve(values['data-dir'] ?? process.env.NEXCHAT_DATA_DIR ?? join(import.meta.dirname, '..', '.nexchat'));
  const file = join(dataDir, 'runtime.json');
  if (!existsSync(file)) fail(`no running local stack found (${file} is missing): start it with npm start`, 1);
  const runtime = JSON.parse(readFileSync(file, 'utf8')) as { dynamoEndpoint: string; tables: Record<string, string> };
  Object.assign(process.env, {
    ...runtime.tables,
    DYNAMODB_ENDPOINT: runtime.dynamoEndpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
}

// The composition root parses the configuration at first use, so it runs after the environment is set.
if (command === 'audit verify') await verify(values.anchor);
else if (command === 'audit export') await exportLog(values.out);
else await grant(role as 'user' | 'moderator' | 'admin');

async function grant(role: 'user' | 'moderator' | 'admin') {
  const { email: emailSchema } = await import('../contract/auth/schemas.ts');
  const { users } = await import('../functions/wiring/auth.ts');
  const { moderationStore } = await import('../functions/wiring/stores.ts');

  let userId = values['user-id'];
  if (values.email) userId = await users().findIdByIdentifier('email', emailSchema.parse(values.email));
  if (values.phone) userId = await users().findIdByIdentifier('phone', values.phone);
  const user = userId ? await users().get(userId) : undefined;
  if (!user) fail('no such account', 1);

  await users().update(user.userId, { role });
  const actor = `cli:${userInfo().username}`;
  await moderationStore().appendAudit({
    actorId: actor,
    action: 'grant_role',
    targetUserId: user.userId,
    note: values.note ?? `role ${role} granted from the command line`,
    details: { role, previousRole: user.role },
  });
  console.log(`${user.userId} (${user.displayName}) is now ${role} (was ${user.role}); audited as ${actor}.`);
}

/** The stored log, straight from the table: the operator tools read what is there, not what the API shows. */
async function auditLog() {
  const { db } = await import('../functions/wiring/platform.ts');
  const { auditChainReader } = await import('../functions/adapters/dynamodb/reports-table.ts');
  return auditChainReader(db());
}

async function verify(anchor: string | undefined) {
  const { verifyAuditChain } = await import('../functions/core/audit-chain.ts');
  const verdict = await verifyAuditChain(await auditLog(), anchor);
  const older = verdict.unchained ? `; ${verdict.unchained} older entries predate the chain and are not covered` : '';
  if (!verdict.ok) {
    console.error(`audit log BROKEN (${verdict.break.kind}): ${verdict.break.message}\n${verdict.checked} entries verified before the break${older}.`);
    process.exit(1);
  }
  const head = verdict.head ? `head #${verdict.head.seq} ${verdict.head.auditId} ${verdict.head.hash}` : 'no head (empty log)';
  console.log(`audit log intact: ${verdict.count} entries${older}${anchor ? '; the anchor is in the chain' : ''}; ${head}`);
}

async function exportLog(file: string | undefined) {
  let fd: number | undefined;
  try {
    fd = file ? openSync(file, 'wx') : undefined; // an export never overwrites one made earlier
  } catch (error) {
    fail(`cannot create ${file}: ${(error as Error).message}`, 1);
  }
  const log = await auditLog();
  const out = fd === undefined ? process.stdout : createWriteStream('', { fd });
  const write = async (record: Record<string, unknown>) => {
    if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain');
  };
  let count = 0;
  for await (const { key, item } of log.auditEntries()) {
    await write({ sk: key, ...item });
    count++;
  }
  const head = await log.auditHead();
  if (head) await write({ sk: 'HEAD', ...head });
  if (file) await new Promise<void>((done, failed) => out.end((error?: Error | null) => (error ? failed(error) : done())));
  console.error(
    `exported ${count} entries${file ? ` to ${file}` : ''}; ${head ? `head #${String(head.seq)} ${String(head.hash)}` : 'no head'} (check it with: npm run admin -- audit verify)`,
  );
}
