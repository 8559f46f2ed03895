// The SDK's realtime session against the real local runtime (handlers, the local WebSocket gateway,
// DynamoDB Local): a fresh ticket per connect, a reconnect after the gateway drops the socket, an
// unacked send resent after the reconnect and stored once, the catch-up delivering what was sent while
// disconnected (once), a refused upgrade explained by the ticket route, and a revoked device that stops
// retrying with the right close. The backoff itself is checked with fake timers and sockets.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Runtime } from '../local/runtime.ts';
import {
  ApiError,
  NexChatClient,
  generateDeviceKeys,
  open,
  publicKeyUpload,
  seal,
  toBase64,
  type DeviceKeys,
  type RealtimeEventName,
  type RealtimeEvents,
  type RealtimeSession,
  type SessionTimers,
  type Tokens,
} from '../client/index.ts';
import { startTestRuntime } from './support/runtime.ts';
import { lastCode, uniqueEmail } from './support/identity.ts';

let rt: Runtime;
before(async () => {
  rt = await startTestRuntime();
});
after(async () => rt?.stop());

const PASSWORD = 'realtime-session-secret-1';

interface Person {
  client: NexChatClient;
  keys: DeviceKeys;
  userId: string;
  email: string;
  tickets: () => number;
  tokens: (Tokens | null)[];
}

async function person(name: string, extra: Partial<ConstructorParameters<typeof NexChatClient>[0]> = {}): Promise<Person> {
  let tickets = 0;
  const f: typeof fetch = (input, init) => {
    if (new URL(String(input)).pathname === '/api/ws/ticket') tickets++;
    return fetch(input, init);
  };
  const tokens: (Tokens | null)[] = [];
  const client = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl, fetch: f, onTokens: (t) => tokens.push(t), ...extra });
  const email = uniqueEmail(name.toLowerCase());
  await client.requestOtp('email', email, 'register');
  const user = await client.register({
    email,
    displayName: name,
    password: PASSWORD,
    code: await lastCode(rt, email, 'register'),
    deviceName: `${name} laptop`,
  });
  const keys = generateDeviceKeys();
  await client.call('PutPublicKey', { body: publicKeyUpload(keys) });
  return { client, keys, userId: user.userId, email, tickets: () => tickets, tokens };
}

/** Every event of a session, in order, and a way to wait for the next one that matches (already seen, or still to come). */
function record(session: RealtimeSession) {
  const events: { name: RealtimeEventName; payload: any }[] = [];
  let consumed = -1; // next() returns events after the last one it returned
  const waiters: { name: RealtimeEventName; match: (p: any) => boolean; resolve: (i: number) => void }[] = [];
  const names: RealtimeEventName[] = [
    'connecting',
    'open',
    'reconnecting',
    'closed',
    'message',
    'ack',
    'receipt',
    'typing',
    'presence',
    'keyChanged',
    'groupUpdated',
    'deviceLinked',
    'error',
  ];
  for (const name of names)
    session.on(name, (payload) => {
      events.push({ name, payload });
      const w = waiters.find((w) => w.name === name && w.match(payload));
      if (w) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(events.length - 1);
      }
    });
  const next = <K extends RealtimeEventName>(name: K, match: (p: RealtimeEvents[K]) => boolean = () => true, ms = 10_000): Promise<RealtimeEvents[K]> => {
    const i = events.findIndex((e, j) => j > consumed && e.name === name && match(e.payload));
    if (i >= 0) {
      consumed = i;
      return Promise.resolve(events[i]!.payload);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${name} event within ${ms} ms; saw ${events.map((e) => e.name).join(', ')}`)), ms);
      waiters.push({ name, match, resolve: (j) => (clearTimeout(timer), (consumed = j), resolve(events[j]!.payload)) });
    });
  };
  const count = (name: RealtimeEventName) => events.filter((e) => e.name === name).length;
  return { events, next, count };
}

const fast = { backoff: { baseMs: 50, maxMs: 200 } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function history(p: Person, conversationId: string) {
  return (await p.client.call('ListMessages', { path: { conversationId } })).messages;
}

describe('the realtime session against the local runtime', () => {
  test('reconnects with a fresh ticket after the gateway drops the socket, and keeps receiving', async () => {
    const [ann, bob] = await Promise.all([person('Ann'), person('Bob')]);
    const session = ann.client.realtime(fast);
    const seen = record(session);
    await session.start();
    assert.equal(session.state, 'open');
    assert.equal(ann.tickets(), 1);

    await rt.ws.closeAll();
    const reconnecting = await seen.next('reconnecting');
    assert.equal(reconnecting.code, 1001, 'the gateway closed with Going Away');
    assert.ok(reconnecting.delayMs >= 0 && reconnecting.delayMs <= 50, `full jitter under the first ceiling (${reconnecting.delayMs})`);
    await seen.next('open');
    assert.equal(ann.tickets(), 2, 'a fresh ticket for the second connect');

    const annKey = await bob.client.publicKey(ann.userId);
    const ack = await bob.client.sendDirectMessage(ann.userId, 'after the reconnect', bob.keys);
    const message = await seen.next('message', (m) => m.messageId === ack.messageId);
    assert.equal(open(message, toBase64(bob.keys.box.publicKey), ann.keys), 'after the reconnect');
    assert.ok(annKey.version >= 1);
    session.close();
    assert.equal((await seen.next('closed')).code, 1000);
    assert.equal(session.state, 'closed');
  });

  test('a send whose ack never arrived is resent once after the reconnect, with the same clientMessageId, and stored once', async () => {
    const [ann, bob] = await Promise.all([person('Ann'), person('Bob')]);
    const bobKey = await ann.client.publicKey(bob.userId);
    const annKey = await ann.client.publicKey(ann.userId);
    // a socket that loses the first ack it receives (as if the connection died just before it arrived)
    const wire: string[] = [];
    let dropAcks = 1;
    class LossySocket extends WebSocket {
      override send(data: string) {
        wire.push(data);
        super.send(data);
      }
      override addEventListener(type: string, listener: any, options?: any) {
        if (type !== 'message') return super.addEventListener(type, listener, options);
        return super.addEventListener(
          type,
          (event: MessageEvent) => {
            if (dropAcks > 0 && String(event.data).includes('"type":"ack"')) return void dropAcks--;
            listener(event);
          },
          options,
        );
      }
    }
    const session = new NexChatClient({ baseUrl: rt.httpUrl, wsUrl: rt.wsUrl, tokens: ann.client.currentTokens!, WebSocket: LossySocket as any }).realtime(
      fast,
    );
    const seen = record(session);
    await session.start();
    const conversationId = await ann.client.directConversation(bob.userId);
    const sending = session.send({
      to: bob.userId,
      ...seal('sent once, acked late', bobKey.publicKey, ann.keys),
      senderKeyVersion: annKey.version,
      recipientKeyVersion: bobKey.version,
    });
    // the server stored it; the ack was lost
    for (let i = 0; i < 100 && (await history(ann, conversationId)).length === 0; i++) await sleep(50);
    assert.equal((await history(ann, conversationId)).length, 1, 'stored');
    assert.equal(seen.count('ack'), 0, 'no ack reached the session');

    await rt.ws.closeAll();
    const ack = await sending;
    const sends = wire.filter((w) => w.includes('"action":"sendMessage"')).map((w) => JSON.parse(w).clientMessageId);
    assert.equal(sends.length, 2, 'sent, then resent once after the reconnect');
    assert.equal(sends[0], sends[1], 'with the same clientMessageId');
    assert.equal(ack.clientMessageId, sends[0]);
    const stored = await history(ann, conversationId);
    assert.equal(stored.length, 1, 'the server stored it once');
    assert.equal(stored[0]!.messageId, ack.messageId);
    session.close();
  });

  test('the catch-up delivers a message sent while the socket was down, once; the cursor moves on', async () => {
    const [ann, bob] = await Promise.all([person('Ann'), person('Bob')]);
    const cursors: string[] = [];
    // the first reconnect waits 1.5 s (random() = 1): long enough for Bob to write while Ann is away
    const session = ann.client.realtime({ backoff: { baseMs: 1500 }, random: () => 0.999, onCursor: (c) => cursors.push(c) });
    const seen = record(session);
    await session.start();
    const first = await bob.client.sendDirectMessage(ann.userId, 'while connected', bob.keys);
    await seen.next('message', (m) => m.messageId === first.messageId);

    await rt.ws.closeAll();
    await seen.next('reconnecting');
    const offline = await bob.client.sendDirectMessage(ann.userId, 'while you were away', bob.keys);
    await seen.next('open');
    const caught = await seen.next('message', (m) => m.messageId === offline.messageId);
    assert.equal(open(caught, toBase64(bob.keys.box.publicKey), ann.keys), 'while you were away');
    await sleep(300); // let the catch-up finish its pages
    const messages = seen.events.filter((e) => e.name === 'message').map((e) => e.payload.messageId);
    assert.deepEqual(messages.sort(), [first.messageId, offline.messageId].sort(), 'each message exactly once (live, then the catch-up, deduplicated)');
    assert.ok(cursors.length >= 1 && session.syncCursor === cursors.at(-1));
    session.close();
  });

  test('an error frame rejects the send waiting for it; the session goes on', async () => {
    const [ann, bob] = await Promise.all([person('Ann'), person('Bob')]);
    const session = ann.client.realtime(fast);
    await session.start();
    const error = await session
      .send({ to: bob.userId, ciphertext: 'not base64!', nonce: 'x', senderKeyVersion: 1, recipientKeyVersion: 1 })
      .catch((e: unknown) => e);
    assert.ok(error instanceof ApiError && error.code === 'validation_failed', String(error));
    assert.equal(session.state, 'open');
    const bobKey = await ann.client.publicKey(bob.userId);
    const ack = await ann.client.sendDirectMessage(bob.userId, 'then a good one', ann.keys, { realtime: session });
    assert.ok(ack.messageId);
    assert.ok(bobKey);
    session.close();
  });

  test("an error frame about another frame (a typing frame's) never fails a waiting send: errors name the send they answer", async () => {
    const [ann, bob] = await Promise.all([person('Ann'), person('Bob')]);
    const session = ann.client.realtime(fast);
    await session.start();
    const errors: ApiError[] = [];
    session.on('error', (e) => errors.push(e as ApiError));
    // the send goes on the wire, then a typing frame the server refuses (no such group) and answers
    // sooner than the send (fewer reads): its error arrives while the send waits, and must not fail it
    const sending = ann.client.sendDirectMessage(bob.userId, 'still delivered', ann.keys, { realtime: session });
    await new Promise((r) => setTimeout(r, 30)); // the SDK looks up Bob's key before the frame goes
    session.typing({ conversationId: `gr_${'0'.repeat(32)}` });
    const ack = await sending;
    assert.ok(ack.messageId);
    for (let i = 0; i < 50 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(errors[0]?.code, 'conversation_not_found', 'the typing error is an error event of the session');
    session.close();
  });

  test('a refused upgrade: the ticket route says the ticket was stale, and the session connects with the new one', async () => {
    const ann = await person('Ann');
    let spoil = 1;
    class SpoilingSocket extends WebSocket {
      constructor(url: string) {
        super(spoil-- > 0 ? url.replace(/ticket=[^&]+/, 'ticket=spoiled') : url);
      }
    }
    const session = new NexChatClient({
      baseUrl: rt.httpUrl,
      wsUrl: rt.wsUrl,
      fetch: undefined,
      tokens: ann.client.currentTokens!,
      WebSocket: SpoilingSocket as any,
    }).realtime(fast);
    const seen = record(session);
    await session.start();
    const reconnecting = seen.events.find((e) => e.name === 'reconnecting')!.payload;
    assert.deepEqual([reconnecting.code, reconnecting.reason], [4010, 'ticket_invalid']);
    assert.deepEqual(
      seen.events.map((e) => e.name),
      ['connecting', 'reconnecting', 'connecting', 'open'],
    );
    session.close();
  });

  test('a revoked device: closed with 4003 device_revoked, tokens forgotten, no reconnect', async () => {
    const ann = await person('Ann');
    // a second device of Ann's, signed in by password
    const phoneTokens: (Tokens | null)[] = [];
    let phoneTickets = 0;
    const phone = new NexChatClient({
      baseUrl: rt.httpUrl,
      wsUrl: rt.wsUrl,
      onTokens: (t) => phoneTokens.push(t),
      fetch: (input, init) => (new URL(String(input)).pathname === '/api/ws/ticket' && phoneTickets++, fetch(input, init)),
    });
    await phone.login({ email: ann.email, password: PASSWORD, deviceName: 'Ann phone' });
    const session = phone.realtime(fast);
    const seen = record(session);
    await session.start();
    const phoneDevice = (await phone.devices()).find((d) => d.current)!;
    await ann.client.revokeDevice(phoneDevice.deviceId, { password: PASSWORD });
    const closed = await seen.next('closed');
    assert.deepEqual([closed.code, closed.reason], [4003, 'device_revoked']);
    assert.ok(closed.error instanceof ApiError && closed.error.code === 'device_revoked');
    assert.equal(phoneTokens.at(-1), null, 'the SDK forgot the tokens (onTokens(null))');
    assert.equal(phone.signedIn, false);
    await sleep(500);
    assert.equal(seen.count('reconnecting'), 0, 'no retry');
    assert.equal(phoneTickets, 1, 'no ticket asked for after the close');
    assert.equal(session.state, 'closed');
    await assert.rejects(session.send({ to: ann.userId, ciphertext: 'AAAA', nonce: 'AAAA', senderKeyVersion: 1, recipientKeyVersion: 1 }), ApiError);
  });
});

describe('backoff (fake sockets and timers)', () => {
  test('full jitter over an exponential ceiling, capped; Retry-After of a throttled ticket is the floor', async () => {
    const scheduled: number[] = [];
    const queue: (() => void)[] = [];
    const timers: SessionTimers = {
      setTimeout: (fn, ms) => (scheduled.push(ms), queue.push(fn), queue.length),
      clearTimeout: () => undefined,
      setInterval: () => 0,
      clearInterval: () => undefined,
    };
    let ticketCalls = 0;
    const f: typeof fetch = async () => {
      ticketCalls++;
      if (ticketCalls === 4)
        return new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'slow down' } }), { status: 429, headers: { 'retry-after': '9' } });
      return new Response(JSON.stringify({ ticket: `t${ticketCalls}`, expiresIn: 30 }), { status: 201, headers: { 'content-type': 'application/json' } });
    };
    // a socket that fails to open every time (close 1006), as a refused upgrade looks in a browser
    class Refused extends EventTarget {
      readyState = 0;
      constructor() {
        super();
        queueMicrotask(() => ((this.readyState = 3), this.dispatchEvent(Object.assign(new Event('close'), { code: 1006, reason: '' }))));
      }
      send() {}
      close() {}
    }
    const client = new NexChatClient({
      baseUrl: 'http://api.test',
      wsUrl: 'ws://ws.test',
      fetch: f,
      tokens: { accessToken: 'a.b.c', refreshToken: 'r' },
      WebSocket: Refused as any,
    });
    const session = client.realtime({ timers, random: () => 0.5, backoff: { baseMs: 100, maxMs: 1000 }, catchUp: false });
    const seen = record(session);
    void session.start().catch(() => undefined);
    const step = async () => {
      for (let i = 0; i < 20 && queue.length === 0; i++) await sleep(1);
      queue.shift()?.();
    };
    for (let i = 0; i < 7; i++) await step();
    const reconnecting = seen.events.filter((e) => e.name === 'reconnecting').map((e) => e.payload);
    assert.deepEqual(
      reconnecting.slice(0, 7).map((r) => r.delayMs),
      [50, 100, 9000, 400, 500, 500, 500],
      'random() × min(max, base × 2^(attempt−1)); the 429’s Retry-After (9 s) is a floor',
    );
    assert.deepEqual(
      reconnecting.slice(0, 3).map((r) => r.reason),
      ['ticket_invalid', 'ticket_invalid', 'throttled'],
    );
    session.close();
  });
});
