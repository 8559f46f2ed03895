// The NexChat sample web app: sign up and sign in with a one-time code, keys made and kept in this
// browser, then chats (see chat.ts) over the SDK. Everything talks to the same origin's /api and to
// the WebSocket the page's <meta name="nexchat-ws-url"> names.
import qrcode from 'qrcode-generator';
import { NexChatClient, generateDeviceKeys, publicKeyUpload, type DeviceKeys, type Tokens } from '../../client/index.ts';
import { Chats } from './chat.ts';
import { $, show } from './dom.ts';
import { loadKeys, loadSession, saveKeys, saveSession } from './store.ts';
import { errorText, notice, setConnection } from './ui.ts';

export interface Me {
  userId: string;
  displayName: string;
  email?: string;
}

const wsUrl = document.querySelector<HTMLMetaElement>('meta[name="nexchat-ws-url"]')?.content ?? `ws://${location.hostname}:3001`;
let session = loadSession();
let tokens: Tokens | undefined = session?.tokens;
let chats: Chats | undefined;

const client = new NexChatClient({
  baseUrl: location.origin,
  wsUrl,
  ...(tokens ? { tokens } : {}),
  onTokens(next) {
    tokens = next ?? undefined;
    if (next && session) saveSession((session = { ...session, tokens: next }));
    if (!next && session) void signedOut('Your session ended. Sign in again.');
  },
});

/** A button busy while `work` runs; errors go to the notice line. */
function busy(button: HTMLButtonElement, work: () => Promise<void>): void {
  button.disabled = true;
  work()
    .catch((error: unknown) => notice(errorText(error), 'error'))
    .finally(() => (button.disabled = false));
}

function value(id: string): string {
  return $<HTMLInputElement>(id).value.trim();
}

// ---- signing up and in ---------------------------------------------------------------------------

function codeStep(form: string, purpose: 'register' | 'login'): void {
  $<HTMLButtonElement>(`${form}-send-code`).addEventListener('click', (event) =>
    busy(event.currentTarget as HTMLButtonElement, async () => {
      const email = value(`${form}-email`);
      if (!email) throw new Error('Enter your email first.');
      await client.requestOtp('email', email, purpose);
      $<HTMLInputElement>(`${form}-code`).disabled = false;
      $<HTMLButtonElement>(`${form}-submit`).disabled = false;
      $<HTMLInputElement>(`${form}-code`).focus();
      notice(`Code sent to ${email}.`);
    }),
  );
}

codeStep('register', 'register');
codeStep('login', 'login');

$<HTMLFormElement>('register-form').addEventListener('submit', (event) => {
  event.preventDefault();
  busy($<HTMLButtonElement>('register-submit'), async () => {
    const user = await client.register({
      email: value('register-email'),
      displayName: value('register-name'),
      code: value('register-code'),
      deviceName: browserName(),
    });
    await signedIn(user);
  });
});

$<HTMLFormElement>('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  busy($<HTMLButtonElement>('login-submit'), async () => {
    const user = await client.login({ email: value('login-email'), code: value('login-code'), deviceName: browserName() });
    if ('otpRequired' in user) throw new Error('This account needs another code.');
    await signedIn(user);
  });
});

function browserName(): string {
  const ua = navigator.userAgent;
  const name = /Firefox\//.test(ua)
    ? 'Firefox'
    : /Edg\//.test(ua)
      ? 'Edge'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chromium'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'Browser';
  return `${name} (web)`;
}

// ---- linking this browser to an account ------------------------------------------------------------

$<HTMLButtonElement>('link-request').addEventListener('click', (event) =>
  busy(event.currentTarget as HTMLButtonElement, async () => {
    const request = await client.requestLink(browserName());
    const qr = qrcode(0, 'M');
    qr.addData(request.qrPayload);
    qr.make();
    $<HTMLImageElement>('link-qr').src = qr.createDataURL(5, 4);
    $<HTMLInputElement>('link-payload').value = request.qrPayload;
    $('link-verification').textContent = request.verificationCode;
    $('link-status').textContent = 'Waiting for approval…';
    show($('link-pending'), true);
    const linked = await client.waitForLink(request).catch((error: unknown) => {
      $('link-status').textContent = `Not linked: ${errorText(error)}`;
      throw error;
    });
    const user = linked.user as Me;
    saveKeys(user.userId, linked.keys);
    show($('link-pending'), false);
    await signedIn(user);
  }),
);

// ---- a session ---------------------------------------------------------------------------------------

/** After any sign-in: this browser's keys (made and published on first use), then the chats. */
async function signedIn(user: { userId: string; displayName: string }): Promise<void> {
  if (!tokens) throw new Error('Not signed in');
  saveSession((session = { userId: user.userId, tokens }));
  const keys = await ensureKeys(user.userId);
  const { user: me } = await client.request<{ user: Me }>('GET', '/api/users/me');
  $('me-name').textContent = `Signed in as ${me.displayName}`;
  show($('signed-out'), false);
  show($('account'), true);
  show($('signed-in'), true);
  chats = new Chats(client, me, keys, (reason) => void signedOut(reason));
  await chats.start();
}

/** The account's keys on this browser; a browser without them makes a pair and publishes it (partners are told of the change). */
async function ensureKeys(userId: string): Promise<DeviceKeys> {
  const mine = loadKeys(userId);
  if (mine) {
    const published = await client.request<{ publicKey: string }>('GET', '/api/users/public-key').catch(() => undefined);
    if (published?.publicKey === publicKeyUpload(mine).publicKey) return mine;
  }
  const keys = mine ?? generateDeviceKeys();
  const previous = await client.request('PUT', '/api/users/public-key', publicKeyUpload(keys));
  saveKeys(userId, keys);
  if (previous.version > 1) notice('This browser published its own keys: your contacts will see your safety number change.');
  return keys;
}

async function signedOut(reason?: string): Promise<void> {
  chats?.stop();
  chats = undefined;
  saveSession((session = undefined));
  setConnection('offline');
  show($('signed-in'), false);
  show($('account'), false);
  show($('signed-out'), true);
  for (const id of ['register-code', 'login-code']) $<HTMLInputElement>(id).disabled = true;
  for (const id of ['register-submit', 'login-submit']) $<HTMLButtonElement>(id).disabled = true;
  if (reason) notice(reason, 'error');
}

$<HTMLButtonElement>('sign-out').addEventListener('click', (event) =>
  busy(event.currentTarget as HTMLButtonElement, async () => {
    chats?.stop();
    await client.logout().catch(() => undefined);
    await signedOut();
  }),
);

$<HTMLButtonElement>('my-safety').addEventListener('click', () => void chats?.showSafetyNumber(undefined));
$<HTMLButtonElement>('link-device').addEventListener('click', () => void chats?.approveLinkDialog());

// A stored session picks up where it was; a dead one lands on the sign-in page.
if (session) {
  signedIn({ userId: session.userId, displayName: '' }).catch((error: unknown) => void signedOut(errorText(error)));
}
