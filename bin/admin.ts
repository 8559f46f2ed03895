// `npm run admin -- grant --email a@b.c --role moderator`: grants a role, writing the audit log.
// Against the local stack (the running `npm start`, found through .nexchat/runtime.json) by default,
// or with AWS credentials against a deployed stage: --aws --users-table T --moderation-table M.
// There is deliberately no HTTP route that makes anyone a moderator or admin.
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const usage = `usage:
  npm run admin -- grant (--email E | --phone P | --user-id ID) --role user|moderator|admin [--note TEXT]
      [--data-dir DIR]                                   local stack (default: ./.nexchat, needs npm start running)
      [--aws --users-table T --moderation-table M [--region R]]   deployed stage, AWS credentials from the environment`;

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
    'data-dir': { type: 'string' },
    aws: { type: 'boolean', default: false },
    'users-table': { type: 'string' },
    'moderation-table': { type: 'string' },
    region: { type: 'string' },
  },
});

if (positionals[0] !== 'grant') fail(`unknown command "${positionals[0] ?? ''}"`);
const role = values.role;
if (role !== 'user' && role !== 'moderator' && role !== 'admin') fail('--role must be user, moderator or admin');
const identifiers = [values.email, values.phone, values['user-id']].filter(Boolean);
if (identifiers.length !== 1) fail('name the account with exactly one of --email, --phone, --user-id');

if (values.aws) {
  if (!values['users-table'] || !values['moderation-table']) fail('--aws needs --users-table and --moderation-table (see the stack outputs)');
  Object.assign(process.env, { USERS_TABLE: values['users-table'], MODERATION_TABLE: values['moderation-table'] });
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
