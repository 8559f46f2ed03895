// No window after a password change or logout-all, end to end (real handlers, local gateway,
// DynamoDB Local): a sign-in that read the user before the change dies however late its session is
// written, and a session family of the old epoch created in the very millisecond of logout-all is
// refused, while the caller of a password change stays signed in. Races are made, not hoped for: a
// middleware on the handlers' DynamoDB client holds the sign-in's family write until the change is
// done; and many real concurrent rounds must keep the same invariant.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Runtime } from '../local/runtime.ts';
import { deriveKeys } from '../functions/core/signing-keys.ts';
import { issueAccessToken } from '../functions/core/tokens.ts';
import { bearer, logIn, me, refreshWith, signUp, type Account } from './support/identity.ts';
import { request, startTestRuntime } from './support/runtime.ts';

let rt: Runtime;
let sessionsTable: string;
let usersTable: string;
let tokenConfig: Parameters<typeof issueAccessToken>[1];

type Next = (args: { input: Record<string, unknown> }) => Promise<unknown>;
type Stack = { add(mw: unknown, options: { step: 'initialize'; name: string; priority: 'high' }): void };

/** While set, the next session-family write waits here: `reached` resolves when it arrives, `release()` lets it go on. */
let hold: { reached: () => void; released: Promise<void> } | undefined;

before(async () => {
  rt = await startTestRuntime();
  const platform = await import('../functions/wiring/platform.ts');
  sessionsTable = platform.config().tables.sessions!;
  usersTable = platform.config().tables.users!;
  tokenConfig = platform.config().tokens;
  (platform.db().client.middlewareStack as unknown as Stack).add(
    (next: Next, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
      const h = hold;
      if (h && context.commandName === 'PutItemCommand' && args.input.TableName === sessionsTable) {
        hold = undefined;
        h.reached();
        await h.released;
      }
      return next(args);
    },
    { step: 'initialize', name: 'holdFamilyWrite', priority: 'high' },
  );
});
after(async () => rt?.stop());

/** Starts a login whose family write is held: resolves `atWrite` once it has read the user and checked the password. */
function heldLogin(email: string, password: string) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let reached!: () => void;
  const atWrite = new Promise<void>((resolve) => (reached = resolve));
  hold = { reached, released };
  const answer = logIn(rt, email, password);
  return { atWrite, release, answer };
}

const changePassword = (a: Pick<Account, 'accessToken'>, currentPassword: string, newPassword: string) =>
  request(rt.httpUrl, 'POST', '/api/auth/password', { headers: bearer(a.accessToken), body: { currentPassword, newPassword } });

async function assertDead(tokens: { accessToken: string; refreshToken: string }, what: string): Promise<void> {
  const profile = await me(rt, tokens.accessToken);
  assert.equal(profile.status, 401, `${what}: access token refused`);
  assert.equal(profile.json.error.code, 'token_revoked');
  assert.equal((await refreshWith(rt, tokens.refreshToken)).status, 401, `${what}: refresh refused`);
}

const userItem = async (userId: string) =>
  (await rt.db.doc.send(new GetCommand({ TableName: usersTable, Key: { pk: `USER#${userId}`, sk: 'PROFILE' }, ConsistentRead: true }))).Item!;

describe('a sign-in racing a change that ends sessions', () => {
  test('password change: a login that checked the old password before it is refused afterwards; the caller stays signed in', async () => {
    const a = await signUp(rt);
    const racing = heldLogin(a.email, a.password);
    await racing.atWrite;
    const changed = await changePassword(a, a.password, 'amber-heron-glides-7');
    assert.equal(changed.status, 200, changed.text);
    racing.release();
    const late = await racing.answer;
    assert.equal(late.status, 200, 'the login was valid when it read the user');
    await assertDead(late.json, 'the racing login');
    assert.equal((await me(rt, a.accessToken)).status, 200, "the caller's session is kept");
    assert.equal((await refreshWith(rt, a.refreshToken)).status, 200);
  });

  test('logout-all: a login that read the user before it is refused afterwards', async () => {
    const a = await signUp(rt);
    const racing = heldLogin(a.email, a.password);
    await racing.atWrite;
    assert.equal((await request(rt.httpUrl, 'POST', '/api/auth/logout-all', { headers: bearer(a.accessToken) })).status, 204);
    racing.release();
    const late = await racing.answer;
    assert.equal(late.status, 200);
    await assertDead(late.json, 'the racing login');
    await assertDead(a, 'the caller');
    assert.equal((await logIn(rt, a.email, a.password)).status, 200, 'signing in again works');
  });

  test('logout-all: a family of the old epoch written in the very millisecond of the change is refused; one of the new epoch is not', async () => {
    const a = await signUp(rt);
    const before = await userItem(a.userId);
    assert.equal((await request(rt.httpUrl, 'POST', '/api/auth/logout-all', { headers: bearer(a.accessToken) })).status, 204);
    const changed = await userItem(a.userId);
    assert.notEqual(changed.sessionEpoch, before.sessionEpoch);
    const keys = deriveKeys(JSON.parse(readFileSync(process.env.NEXCHAT_DEV_SECRETS_FILE!, 'utf8')));
    /** A family as a sign-in writes it, created at the change's own millisecond, and an access token of it. */
    async function sessionAt(epoch: string | undefined, familyId: string): Promise<string> {
      const createdAt = changed.tokensValidAfter as number;
      const item = {
        pk: `FAMILY#${familyId}`,
        sk: 'META',
        familyId,
        userId: a.userId,
        currentDigest: 'x',
        generation: 1,
        createdAt,
        epoch,
        expiresAt: Math.floor(createdAt / 1000) + 3600,
      };
      await rt.db.doc.send(new PutCommand({ TableName: sessionsTable, Item: item }));
      return (await issueAccessToken(keys, tokenConfig, { sub: a.userId, sid: familyId, role: 'user' }, rt.clock.now())).token;
    }
    const stale = await me(rt, await sessionAt(before.sessionEpoch as string | undefined, `stale-${a.userId}`));
    assert.equal(stale.status, 401, 'old epoch, same millisecond: refused');
    const fresh = await me(rt, await sessionAt(changed.sessionEpoch as string, `fresh-${a.userId}`));
    assert.equal(fresh.status, 200, 'new epoch, same millisecond: accepted (the harness makes valid sessions)');
  });

  test('20 rounds of a login with the old password started together with a password change: every login that got in is dead after it', async (t) => {
    const a = await signUp(rt);
    let password = a.password;
    let caller = { accessToken: a.accessToken, refreshToken: a.refreshToken };
    let succeeded = 0;
    for (let round = 0; round < 20; round++) {
      const next = `river-stone-${round}-sings-${round * 7}`;
      const [login, changed] = await Promise.all([logIn(rt, a.email, password), changePassword(caller, password, next)]);
      assert.equal(changed.status, 200, changed.text);
      if (login.status === 200) {
        succeeded++;
        await assertDead(login.json, `round ${round}`);
      } else assert.equal(login.status, 401, login.text);
      const kept = await refreshWith(rt, caller.refreshToken);
      assert.equal(kept.status, 200, `round ${round}: the caller stays signed in`);
      caller = { accessToken: kept.json.accessToken, refreshToken: kept.json.refreshToken };
      password = next;
    }
    t.diagnostic(`${succeeded} of 20 racing logins read the user before the change (each one refused afterwards)`);
  });
});
