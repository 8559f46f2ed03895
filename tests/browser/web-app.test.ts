// The web app (web/) in real Chromium, served by the same laptop runtime as the API: people register
// with codes from the dev outbox, chat 1:1 and in a group, see typing, receipts and presence, send an
// encrypted file, compare safety numbers, block; the page keeps its strict CSP throughout; afterwards
// the tables and the bucket hold no plaintext.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Browser, Page } from 'playwright-core';
import type { Runtime } from '../../local/runtime.ts';
import { tables } from '../../lib/tables.ts';
import { cspViolations, launchBrowser, newPerson, registerInPage, screenshot, traced, watch, type Person } from '../support/browser.ts';
import { lastCode, uniqueEmail } from '../support/identity.ts';
import { request, startTestRuntime } from '../support/runtime.ts';

let rt: Runtime;
let browser: Browser;
const people: Person[] = [];
/** Every plaintext the people typed or attached: none may reach a table or the bucket. */
const canaries: string[] = [];

function canary(label: string): string {
  const c = `${label}-canary-${randomBytes(6).toString('hex')}`;
  canaries.push(c);
  return c;
}

async function person(name: string): Promise<Person> {
  const p = await newPerson(browser, name, uniqueEmail(name.toLowerCase()));
  people.push(p);
  await registerInPage(rt, p);
  return p;
}

const messages = (page: Page) => page.getByRole('log', { name: 'Messages' });
const chatButton = (page: Page, name: string) => page.getByRole('navigation', { name: 'Conversations' }).locator('.chat-link', { hasText: name });

async function openChatWith(from: Person, to: Person): Promise<void> {
  const { page } = from;
  await page.getByLabel('Find people').fill(to.name);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('button', { name: `Message ${to.name}` }).click();
  await page.getByRole('heading', { name: to.name, level: 2 }).waitFor();
}

/** Types into the message box and presses Enter (the keyboard path a person uses). */
async function say(p: Person, text: string): Promise<void> {
  await p.page.getByLabel('Message', { exact: true }).fill(text);
  await p.page.getByLabel('Message', { exact: true }).press('Enter');
  await messages(p.page).locator('li.mine', { hasText: text }).locator('.status', { hasNotText: 'Sending' }).waitFor();
}

before(async () => {
  rt = await startTestRuntime();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await rt?.stop();
});

describe('the web app in Chromium', () => {
  test('is served at / by the runtime with a strict CSP, beside the API', async () => {
    const page = await request(rt.httpUrl, 'GET', '/');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.ok(!csp.includes(','), `one policy, not the API's too: ${csp}`);
    const directives = new Map(
      csp
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name!, values]),
    );
    assert.deepEqual(directives.get('script-src'), ["'self'"]);
    assert.deepEqual(directives.get('style-src'), ["'self'"]);
    assert.deepEqual(directives.get('object-src'), ["'none'"]);
    assert.deepEqual(directives.get('base-uri'), ["'none'"]);
    assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
    assert.deepEqual(directives.get('img-src'), ["'self'", 'data:', 'blob:']);
    const wsPort = new URL(rt.wsUrl).port;
    const s3Port = new URL(rt.s3.endpoint).port;
    assert.deepEqual(directives.get('connect-src')?.sort(), [
      "'self'",
      `http://127.0.0.1:${s3Port}`,
      `http://localhost:${s3Port}`,
      `ws://127.0.0.1:${wsPort}`,
      `ws://localhost:${wsPort}`,
    ]);
    assert.ok(!/unsafe-inline|unsafe-eval/.test(csp), 'nothing unsafe');
    assert.match(page.text, /<script type="module" src="\/app\.js"><\/script>/);
    assert.ok(!/<script>|<style|style="/.test(page.text), 'no inline script or style in the page');
    assert.match(page.text, new RegExp(`content="ws://127\\.0\\.0\\.1:${wsPort}"`), 'the page names its socket');
    for (const [path, type] of [
      ['/app.js', /^text\/javascript/],
      ['/app.css', /^text\/css/],
    ] as const) {
      const res = await request(rt.httpUrl, 'GET', path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', type);
      assert.equal(res.headers.get('content-security-policy'), csp, `${path} carries the same policy`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    }
    assert.equal((await request(rt.httpUrl, 'GET', '/api/health')).status, 200, 'the API is untouched');
    const post = await request(rt.httpUrl, 'POST', '/');
    assert.equal(post.status, 404, 'only GET is the app');
    assert.deepEqual(post.json, { message: 'Not Found' });
    assert.equal((await request(rt.httpUrl, 'GET', '/app.ts')).status, 404, 'no other files');
  });

  test('two people register, chat both ways with typing, receipts, presence, an encrypted file, safety numbers, a reconnect and a block', () =>
    traced(
      'direct',
      () => people,
      async () => {
        const ada = await person('Ada');
        const bob = await person('Bob');

        // Ada finds Bob and writes; Bob sees an unread count, opens the chat, reads it; Ada sees "Read".
        await openChatWith(ada, bob);
        // The push of a first message goes out beside the write of the recipient's inbox entry, so the list
        // Bob loads when it arrives may not hold the conversation yet (it did not, under load): here the
        // first list he loads never does. The page shows the message anyway; a later list names the chat.
        await bob.page.route('**/api/conversations?limit=50', (route) => route.fulfill({ json: { conversations: [] } }), { times: 1 });
        const hello = `hello Bob ${canary('hello')}`;
        await say(ada, hello);
        const bobsChat = chatButton(bob.page, 'Ada');
        await bobsChat.filter({ hasText: '1 unread' }).waitFor();
        await bobsChat.click();
        await messages(bob.page).locator('li.theirs', { hasText: hello }).waitFor();
        await messages(ada.page).locator('li.mine', { hasText: hello }).locator('.status', { hasText: 'Read' }).waitFor();
        assert.equal(await bobsChat.locator('.unread').count(), 0, 'read: no unread count left');

        // Bob types: Ada sees it; Bob's reply arrives and is read by Ada at once (her chat is open).
        await bob.page.getByLabel('Message', { exact: true }).pressSequentially('hi', { delay: 20 });
        await ada.page.getByText('Bob is typing…').waitFor();
        const reply = `hi Ada ${canary('reply')}`;
        await say(bob, reply);
        await messages(ada.page).locator('li.theirs', { hasText: reply }).waitFor();
        await messages(bob.page).locator('li.mine', { hasText: reply }).locator('.status', { hasText: 'Read' }).waitFor();
        assert.equal(await ada.page.getByText('Bob is typing…').count(), 0, 'the typing line clears when the message comes');

        // An encrypted file with a progress bar; Bob downloads it and gets the same bytes.
        const fileText = `attachment ${canary('file')}\n`.repeat(2000);
        await ada.page.getByLabel('Attach a file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(fileText) });
        const fileNote = `the notes ${canary('caption')}`;
        await ada.page.getByLabel('Message', { exact: true }).fill(fileNote);
        const progressSeen = ada.page.waitForSelector('progress#upload-progress:not([hidden])', { timeout: 5000 });
        await ada.page.getByRole('button', { name: 'Send', exact: true }).click();
        await progressSeen;
        await messages(ada.page).locator('li.mine', { hasText: fileNote }).locator('.status', { hasNotText: 'Sending' }).waitFor();
        assert.ok(await ada.page.locator('progress#upload-progress').isHidden(), 'the progress bar goes away after the upload');
        const fileMessage = messages(bob.page).locator('li.theirs', { hasText: fileNote });
        await fileMessage.getByRole('button', { name: /^Download notes\.txt/ }).click();
        const [download] = await Promise.all([bob.page.waitForEvent('download'), fileMessage.getByRole('link', { name: /^Save notes\.txt/ }).click()]);
        const chunks: Buffer[] = [];
        for await (const chunk of (await download.createReadStream()) as AsyncIterable<Buffer>) chunks.push(chunk);
        assert.equal(Buffer.concat(chunks).toString('utf8'), fileText, 'Bob got the file Ada sent');
        assert.equal(download.suggestedFilename(), 'notes.txt');

        // Safety numbers: the page shows the directory's fingerprint for Bob, recomputed in the browser.
        const bobKey = (await request(rt.httpUrl, 'GET', `/api/users/${await userIdOf(bob)}/public-key`, { headers: await bearerOf(ada) })).json;
        await ada.page.getByRole('button', { name: 'Safety number', exact: true }).click();
        const dialog = ada.page.getByRole('dialog', { name: 'Safety number' });
        await dialog.waitFor();
        assert.equal(await dialog.locator('#safety-number').textContent(), bobKey.fingerprint);
        assert.match((await dialog.locator('#safety-check').textContent()) ?? '', /^Checked on this device/);
        await dialog.getByRole('button', { name: 'Mark as verified' }).click();
        await dialog.waitFor({ state: 'hidden' });

        // Presence: Bob leaves (his page closes), Ada sees "Last seen"; he comes back, she sees "Online".
        const bobUrl = bob.page.url();
        await bob.page.close();
        await ada.page.locator('#chat-presence', { hasText: 'Last seen' }).waitFor();
        bob.page = await bob.context.newPage();
        watch(bob.page, bob.problems);
        await bob.page.goto(bobUrl);
        await bob.page
          .getByRole('status')
          .filter({ hasText: /^Connected$/ })
          .waitFor();
        await ada.page.locator('#chat-presence', { hasText: 'Online' }).waitFor();

        // The socket drops: the page says it is reconnecting, then connected again, and catches up.
        await rt.ws.closeAll();
        await ada.page.getByRole('status').filter({ hasText: 'Reconnecting…' }).waitFor();
        await ada.page
          .getByRole('status')
          .filter({ hasText: /^Connected$/ })
          .waitFor({ timeout: 10_000 });
        await bob.page
          .getByRole('status')
          .filter({ hasText: /^Connected$/ })
          .waitFor({ timeout: 10_000 });

        // Bob blocks Ada: her next message is sent (as far as she can tell) but never reaches him.
        await chatButton(bob.page, 'Ada').click();
        await bob.page.getByRole('button', { name: 'Block', exact: true }).click();
        await bob.page.getByRole('button', { name: 'Unblock' }).waitFor();
        const blocked = `after the block ${canary('blocked')}`;
        await say(ada, blocked);
        await bob.page.waitForTimeout(1500); // time enough for a delivery that must not come
        assert.equal(await messages(bob.page).getByText(blocked).count(), 0, 'the blocked message is not shown to Bob');
        // Bob cannot write to someone he blocks: the page says why, and nothing reaches Ada.
        await bob.page.getByLabel('Message', { exact: true }).fill('are you there?');
        await bob.page.getByLabel('Message', { exact: true }).press('Enter');
        await bob.page.getByRole('alert').filter({ hasText: 'unblock them to write' }).waitFor();
        await bob.page.reload();
        await chatButton(bob.page, 'Ada').click();
        await messages(bob.page).locator('li', { hasText: hello }).waitFor();
        assert.equal(await messages(bob.page).getByText(blocked).count(), 0, 'nor in his history');
        assert.equal(
          await messages(ada.page).locator('li.mine', { hasText: blocked }).locator('.status').textContent(),
          'Sent',
          'Ada sees it sent, never delivered',
        );
        assert.equal(await messages(ada.page).getByText('are you there?').count(), 0, 'nothing from Bob reached Ada');

        await screenshot(ada.page, 'direct-chat-ada');
        await screenshot(bob.page, 'direct-chat-bob');
      },
    ));

  test('a group of three exchanges messages', () =>
    traced(
      'group',
      () => people,
      async () => {
        const [ann, ben, cy] = [await person('Ann'), await person('Ben'), await person('Cy')];
        for (const p of [ben, cy]) {
          await ann.page.getByLabel('Find people').fill(p.name);
          await ann.page.getByRole('button', { name: 'Search' }).click();
          await ann.page.getByRole('button', { name: `Add ${p.name} to the new group` }).click();
        }
        await ann.page.getByLabel('New group name').fill('Trio');
        await ann.page.getByRole('button', { name: 'Create group' }).click();
        await ann.page.getByRole('heading', { name: 'Trio', level: 2 }).waitFor();
        for (const p of [ben, cy]) {
          await p.page.getByRole('button', { name: 'Refresh' }).click();
          await p.page.getByRole('button', { name: 'Join Trio' }).click();
          await p.page.getByRole('heading', { name: 'Trio', level: 2 }).waitFor();
        }
        const first = `group hello ${canary('group')}`;
        await say(ann, first);
        for (const p of [ben, cy]) await messages(p.page).locator('li.theirs', { hasText: first }).waitFor();
        await messages(ann.page)
          .locator('li.mine', { hasText: first })
          .locator('.status', { hasText: /Read by (Ben, Cy|Cy, Ben)/ })
          .waitFor();
        await cy.page.getByLabel('Message', { exact: true }).pressSequentially('ok', { delay: 20 });
        await ben.page.getByText('Cy is typing…').waitFor();
        const second = `group reply ${canary('group-reply')}`;
        await say(cy, second);
        for (const p of [ann, ben]) await messages(p.page).locator('li.theirs', { hasText: second }).waitFor();
        await screenshot(ann.page, 'group-ann');
      },
    ));

  test('a new browser links to an account through the QR code dialog and reads its history', () =>
    traced(
      'link',
      () => people,
      async () => {
        const dee = await person('Dee');
        const eve = await person('Eve');
        await openChatWith(dee, eve);
        const before = `before the link ${canary('link')}`;
        await say(dee, before);

        const laptop = await newPerson(browser, 'Dee (laptop)', dee.email);
        people.push(laptop);
        await laptop.page.goto(`${rt.httpUrl}/`);
        await laptop.page.getByRole('button', { name: 'Show link code' }).click();
        const qr = laptop.page.getByRole('img', { name: 'QR code linking this browser' });
        await qr.waitFor();
        assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/gif;base64,/);
        assert.ok(await qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 100), 'the QR code image loaded');
        const payload = await laptop.page.getByLabel('Link code (copy it to the signed-in device)').inputValue();
        assert.match(payload, /^nexchat:\/\/link\?/);
        const shown = await laptop.page.locator('#link-verification').textContent();

        await dee.page.getByRole('button', { name: 'Link a device' }).click();
        const dialog = dee.page.getByRole('dialog', { name: 'Link a device' });
        await dialog.getByLabel('Link code from the new device').fill(payload);
        await dialog.getByText(`Verification code: ${shown}.`).waitFor();
        await dialog.getByRole('button', { name: 'Send confirmation code' }).click();
        await dee.page.getByRole('alert').filter({ hasText: 'Confirmation code sent' }).waitFor();
        await dialog.getByLabel('Confirmation code').fill(await lastCode(rt, dee.email, 'reauth'));
        await dialog.getByRole('button', { name: 'Approve' }).click();
        await dialog.waitFor({ state: 'hidden' });

        // the new browser claims within one poll (3 s), holds Dee's keys and reads what she wrote before
        await laptop.page.getByText('Signed in as Dee').waitFor({ timeout: 15_000 });
        await dee.page.getByRole('alert').filter({ hasText: 'A new device was linked' }).waitFor();
        await chatButton(laptop.page, 'Eve').click();
        await messages(laptop.page).locator('li.mine', { hasText: before }).waitFor();
        assert.equal(await laptop.page.locator('li.undecryptable').count(), 0);
      },
    ));

  test('no page saw a CSP violation or an error, and the tables and the bucket hold only ciphertext', async () => {
    assert.ok(people.length >= 5, 'the other tests ran');
    for (const p of people.filter((x) => !x.page.isClosed())) {
      assert.deepEqual(await cspViolations(p), [], `${p.name}: CSP violations`);
    }
    for (const p of people) assert.deepEqual(p.problems.errors, [], `${p.name}: page errors`);
    assert.ok(canaries.length >= 7);
    const needles = canaries.flatMap((c) => [c, ...base64Shapes(c), Buffer.from(c).toString('hex')]);
    let items = 0;
    for (const t of tables) {
      const dump = JSON.stringify(await scanAll(process.env[t.envVar]!));
      items += dump.length;
      for (const n of needles) assert.ok(!dump.includes(n), `plaintext ${n} in table ${t.id}`);
    }
    assert.ok(items > 1000, 'the tables were read');
    const objects = [...rt.s3.objects.values()];
    assert.ok(objects.length >= 1, 'the file was stored');
    for (const o of objects) {
      const body = o.body.toString('latin1');
      for (const n of needles) assert.ok(!body.includes(n), `plaintext ${n} in a stored object`);
    }
  });
});

/** The canary as it would read inside base64 of any text, at each of the three alignments (the middle, fully determined part). */
function base64Shapes(text: string): string[] {
  return [0, 1, 2].map((pad) =>
    Buffer.from('x'.repeat(pad) + text)
      .toString('base64')
      .slice(4, -4),
  );
}

async function scanAll(table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await rt.db.doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

async function sessionOf(p: Person): Promise<{ userId: string; tokens: { accessToken: string } }> {
  return p.page.evaluate(() => JSON.parse(localStorage.getItem('nexchat.session')!));
}

async function userIdOf(p: Person): Promise<string> {
  return (await sessionOf(p)).userId;
}

async function bearerOf(p: Person): Promise<Record<string, string>> {
  return { authorization: `Bearer ${(await sessionOf(p)).tokens.accessToken}` };
}
