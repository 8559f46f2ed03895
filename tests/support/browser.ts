// Test support for the web app in a real browser: Debian's chromium driven by playwright-core (no
// browser download), one context per person, every page watched for CSP violations and page errors.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Runtime } from '../../local/runtime.ts';
import { projectRoot } from '../../local/lambda.ts';
import { lastCode } from './identity.ts';

/** Trace times count from here, the same for every page. */
const epoch = Date.now();

/** Screenshots land here (git-ignored). */
export const artifactsDir = join(projectRoot, 'artifacts', 'browser');

/** CHROMIUM_PATH, else the first chromium on PATH; throws with the fix when there is none. */
export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (path) return path;
    } catch {
      // not this one
    }
  }
  throw new Error('No chromium found: install it (Debian/Ubuntu: apt-get install -y chromium) or set CHROMIUM_PATH');
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true });
}

/** The little of a page's globals the tests touch. */
interface BrowserGlobals {
  __cspViolations?: string[];
  document: { addEventListener(type: 'securitypolicyviolation', listener: (e: { violatedDirective: string; blockedURI: string }) => void): void };
}

/** What went wrong on a page that the UI alone would not show. */
export interface PageProblems {
  /** securitypolicyviolation events, and console errors naming the Content Security Policy. */
  csp: string[];
  /** Uncaught exceptions and console errors. */
  errors: string[];
  /** Everything the page logged and every frame its sockets carried, timed: printed when a test fails (traceOf()). */
  trace: string[];
}

export interface Person {
  name: string;
  email: string;
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
}

/** A fresh browser profile (its own storage) with one page, watched for CSP violations and errors. */
export async function newPerson(browser: Browser, name: string, email: string): Promise<Person> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  context.setDefaultTimeout(10_000);
  // runs in every document before the page's own scripts (injected by the driver, not subject to the CSP)
  await context.addInitScript(() => {
    // in the page (the tests' tsconfig has no DOM types): record every securitypolicyviolation event
    const page = globalThis as unknown as BrowserGlobals;
    page.__cspViolations = [];
    page.document.addEventListener('securitypolicyviolation', (e) => page.__cspViolations!.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`));
  });
  const page = await context.newPage();
  const problems: PageProblems = { csp: [], errors: [], trace: [] };
  watch(page, problems);
  return { name, email, context, page, problems };
}

/** Records a page's console, uncaught errors and socket frames into `problems` (call again for a page opened later). */
export function watch(page: Page, problems: PageProblems): void {
  const note = (line: string) => problems.trace.push(`+${((Date.now() - epoch) / 1000).toFixed(3)}s ${line}`);
  page.on('websocket', (ws) => {
    note(`ws open ${ws.url().replace(/ticket=[^&]+/, 'ticket=…')}`);
    ws.on('framereceived', (f) => note(`ws ← ${String(f.payload).slice(0, 300)}`));
    ws.on('framesent', (f) => note(`ws → ${String(f.payload).slice(0, 300)}`));
    ws.on('close', () => note('ws closed'));
  });
  page.on('request', (req) => {
    if (req.url().includes('/api/')) note(`http → ${req.method()} ${new URL(req.url()).pathname}${new URL(req.url()).search}`);
  });
  page.on('response', (res) => {
    if (!res.url().includes('/api/')) return;
    const line = `http ← ${res.status()} ${res.request().method()} ${new URL(res.url()).pathname}`;
    // the body too (its start), read before the next event is noted: what the page saw matters when a test fails
    res.text().then(
      (body) => note(`${line} ${body.slice(0, 300)}`),
      () => note(line),
    );
  });
  page.on('console', (msg) => {
    note(`console.${msg.type()} ${msg.text()}`);
    if (msg.type() !== 'error') return;
    const text = msg.text();
    const url = msg.location().url;
    if (/Content Security Policy/i.test(text)) problems.csp.push(text);
    // a new device polls its link's claim, which answers 404 until approved (docs/devices.md): expected
    else if (!(/status of 404/.test(text) && /\/api\/devices\/links\/[^/]+\/claim$/.test(url))) problems.errors.push(`${text} ${url}`);
  });
  page.on('pageerror', (error) => {
    note(`pageerror ${String(error)}`);
    problems.errors.push(String(error));
  });
}

/**
 * Runs a test's body; when it fails, the people's traces (console, socket frames, API calls) go to
 * artifacts/browser/trace-<name>.txt and the error names the file.
 */
export async function traced(name: string, people: () => Person[], body: () => Promise<void>): Promise<void> {
  const marks = new Map(people().map((p) => [p, p.problems.trace.length]));
  try {
    await body();
  } catch (error) {
    mkdirSync(artifactsDir, { recursive: true });
    const path = join(artifactsDir, `trace-${name}.txt`);
    const text = people()
      .map((p) => `---- ${p.name}\n${p.problems.trace.slice(marks.get(p) ?? 0).join('\n')}`)
      .join('\n');
    writeFileSync(path, text);
    if (error instanceof Error) error.message += `\n(the pages' trace: ${path})`;
    throw error;
  }
}

/** The CSP violations the page itself saw (securitypolicyviolation events), plus the console's. */
export async function cspViolations(person: Person): Promise<string[]> {
  const events = await person.page.evaluate(() => (globalThis as unknown as BrowserGlobals).__cspViolations ?? []);
  return [...events, ...person.problems.csp];
}

/** Registers through the page as a person would: email and name, "Send code", the code from the dev outbox, "Create account". */
export async function registerInPage(rt: Runtime, person: Person): Promise<void> {
  const { page } = person;
  await page.goto(`${rt.httpUrl}/`);
  const form = page.getByRole('form', { name: 'Create an account' });
  await form.getByLabel('Email').fill(person.email);
  await form.getByLabel('Display name').fill(person.name);
  await form.getByRole('button', { name: 'Send code' }).click();
  const code = form.getByLabel('Code');
  await code.and(page.locator(':enabled')).waitFor();
  await code.fill(await lastCode(rt, person.email, 'register'));
  await form.getByRole('button', { name: 'Create account' }).click();
  await page
    .getByRole('status')
    .filter({ hasText: /^Connected$/ })
    .waitFor();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
