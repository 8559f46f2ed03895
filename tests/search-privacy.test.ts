// People search through the gateway cannot enumerate accounts: an exact email or phone finds only
// users who opted in (PATCH /api/users/me {"discoverable": true}); a registered address that did not
// opt in answers exactly like one nobody registered; the flag is shown to its owner only; and
// searches are counted per source IP as well as per account, so many accounts on one address do not
// add up their shares. Time moves by the runtime's clock, never by sleeping.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Runtime } from '../local/runtime.ts';
import { request, startTestRuntime, testEnv } from './support/runtime.ts';
import { bearer, lastCode, me, requestCode, signUp, uniqueEmail, type Account } from './support/identity.ts';

let rt: Runtime;
const SEARCH_IP = { limit: 6, windowSeconds: 300 };

before(async () => {
  rt = await startTestRuntime({ RATE_LIMITS: JSON.stringify({ ...JSON.parse(testEnv.RATE_LIMITS), searchIp: SEARCH_IP }) });
});
after(async () => rt?.stop());

const search = (who: Account, q: string) => request(rt.httpUrl, 'GET', `/api/users/search?q=${encodeURIComponent(q)}`, { headers: bearer(who.accessToken) });
const patchMe = (who: Account, body: unknown) => request(rt.httpUrl, 'PATCH', '/api/users/me', { headers: bearer(who.accessToken), body });

/** What a client can observe of an answer: status, body, and every header but the per-request ones. */
function observable(res: { status: number; headers: Headers; text: string }) {
  const headers = [...res.headers].filter(([k]) => !['date', 'x-request-id', 'apigw-requestid', 'content-length'].includes(k));
  return { status: res.status, text: res.text, headers };
}

/** Moves the clock past the per-IP window, so earlier searches in this file no longer count. */
const freshWindow = () => rt.clock.advance((SEARCH_IP.windowSeconds + 60) * 1000);

/** A phone account, registered over SMS. */
async function phoneAccount(): Promise<string> {
  const phone = `+1415${String(Date.now()).slice(-7)}`;
  await requestCode(rt, phone, 'register', 'sms');
  const reg = await request(rt.httpUrl, 'POST', '/api/auth/register', {
    body: { phone, displayName: 'Phone Person', code: await lastCode(rt, phone, 'register') },
  });
  assert.equal(reg.status, 201, reg.text);
  return phone;
}

describe('people search and discoverability', () => {
  test('an unregistered address and a registered one whose owner did not opt in answer identically (email and phone)', async () => {
    freshWindow();
    const [searcher, quiet] = [await signUp(rt), await signUp(rt)];
    const quietPhone = await phoneAccount();
    const pairs: [string, string][] = [
      [quiet.email, uniqueEmail('nobody')],
      [quietPhone, `+1415${String(Date.now() + 1).slice(-7)}`],
    ];
    for (const [registered, unregistered] of pairs) {
      const [a, b] = [await search(searcher, registered), await search(searcher, unregistered)];
      assert.equal(a.status, 200);
      assert.deepEqual(a.json, { users: [] });
      assert.deepEqual(observable(a), observable(b), registered);
    }
  });

  test('discovery is off by default; opting in makes an exact email find the user; opting out hides them again', async () => {
    freshWindow();
    const [searcher, ada] = [await signUp(rt), await signUp(rt, { displayName: 'Ada Discoverable' })];
    assert.equal((await me(rt, ada.accessToken)).json.user.discoverable, false, 'off by default, shown to its owner');
    const on = await patchMe(ada, { discoverable: true, password: ada.password });
    assert.equal(on.status, 200);
    assert.deepEqual([on.json.user.discoverable, on.json.user.displayName], [true, 'Ada Discoverable']);
    const found = await search(searcher, ada.email.toUpperCase());
    assert.deepEqual(found.json.users, [{ userId: ada.userId, displayName: 'Ada Discoverable' }], 'public fields only: no flag, no address');
    assert.equal((await patchMe(ada, { discoverable: false })).json.user.discoverable, false);
    assert.deepEqual((await search(searcher, ada.email)).json.users, []);
  });

  test('PATCH /api/users/me needs a field to change, and a boolean for discoverable', async () => {
    const a = await signUp(rt);
    for (const body of [{}, { discoverable: 'yes' }, { discoverable: null }, { discoverable: true, email: 'x@example.test' }]) {
      const res = await patchMe(a, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.json.error.code, 'validation_failed');
    }
    assert.equal((await me(rt, a.accessToken)).json.user.discoverable, false, 'nothing changed');
  });

  test('display-name prefix search is unchanged: it finds people whether or not they opted in', async () => {
    freshWindow();
    const tag = `Zq${Date.now().toString(36)}`;
    const [searcher, quiet] = [await signUp(rt), await signUp(rt, { displayName: `${tag} Quiet` })];
    const res = await search(searcher, tag.toLowerCase());
    assert.deepEqual(res.json.users, [{ userId: quiet.userId, displayName: `${tag} Quiet` }]);
  });

  test('the per-IP limit answers 429 with Retry-After across different accounts from one address', async () => {
    freshWindow();
    const accounts = [await signUp(rt), await signUp(rt), await signUp(rt)];
    const statuses = [];
    for (let i = 0; i < SEARCH_IP.limit; i++) statuses.push((await search(accounts[i % accounts.length]!, `name${i}`)).status);
    assert.deepEqual(statuses, Array(SEARCH_IP.limit).fill(200));
    const fresh = await signUp(rt);
    const refused = await search(fresh, 'someone');
    assert.equal(refused.status, 429, 'an account that never searched is refused: the address is out of searches');
    const retry = Number(refused.headers.get('retry-after'));
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= SEARCH_IP.windowSeconds * 1.1, `Retry-After ${retry}`);
    assert.match(refused.headers.get('ratelimit-policy') ?? '', /^"searchIp";q=6;w=300$/);
    assert.equal(refused.json.error.code, 'rate_limited');
    assert.match(refused.json.error.message, /searches from this address/);
    rt.clock.advance(retry * 1000);
    assert.equal((await search(fresh, 'someone')).status, 200, 'after Retry-After');
  });
});
