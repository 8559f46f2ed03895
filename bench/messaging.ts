// Messaging benchmark, run by `npm run bench` in its own process (or `node bench/messaging.ts` with
// --samples, --clients, --throughput-clients, --throughput-seconds): message latency and throughput through
// the local gateway against a same-run floor (one PutItem + one Query), and DynamoDB capacity units per send
// and per history page. Results: bench/results/messaging.json.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import nacl from 'tweetnacl';
import WebSocket, { type RawData } from 'ws';
import type { Runtime } from '../local/runtime.ts';
import { bearer, signUp, type Account } from '../tests/support/identity.ts';
import { request, startTestRuntime } from '../tests/support/runtime.ts';
import { benchGroups, GROUP_SIZES, type GroupResult } from './groups.ts';
import { environment, formatTable, mean, percentile, round, writeResults } from './lib.ts';
import { isReadOp, itemBytes, perAction, roundTrips, SdkMeter, type CallSpan } from './sdk-meter.ts';

const { values: args } = parseArgs({
  options: {
    samples: { type: 'string', default: '300' },
    clients: { type: 'string', default: '2,20,100' },
    'throughput-clients': { type: 'string', default: '20' },
    'throughput-seconds': { type: 'string', default: '10' },
  },
});
const SAMPLES = Number(args.samples);
const CLIENTS = args.clients
  .split(',')
  .map(Number)
  .sort((a, b) => a - b);
const THROUGHPUT_CLIENTS = Number(args['throughput-clients']);
const THROUGHPUT_SECONDS = Number(args['throughput-seconds']);
if (!Number.isInteger(SAMPLES) || SAMPLES < 10) throw new Error(`--samples must be an integer >= 10, got ${args.samples}`);
if (!CLIENTS.every((n) => Number.isInteger(n) && n >= 2 && n % 2 === 0)) throw new Error(`--clients must be even integers >= 2, got ${args.clients}`);
if (!CLIENTS.includes(THROUGHPUT_CLIENTS)) throw new Error(`--throughput-clients (${THROUGHPUT_CLIENTS}) must be one of --clients (${CLIENTS.join(',')})`);
if (!(THROUGHPUT_SECONDS > 0)) throw new Error(`--throughput-seconds must be positive, got ${args['throughput-seconds']}`);

/** A short chat line: 100 bytes of text, sealed (tweetnacl box, +16 bytes) and base64'd as a client does. */
const PLAINTEXT = 'x'.repeat(100);
/** Sends and history pages priced with ReturnConsumedCapacity, and brand-new conversations. */
const CAPACITY_SENDS = 100;
const CAPACITY_PAGES = 20;
const FRESH_PAIRS = 3;
const HISTORY_PAGE = 50;
/** Sends (and floor samples) before each configuration, and once before the first (DynamoDB Local's JIT). */
const WARMUP_SENDS = 20;
const FIRST_WARMUP_SENDS = 100;
const SEND_TIMEOUT_MS = 30_000;
/** The hot recipient case: this many senders, each this many messages to one recipient, one in flight per sender. */
const HOT_SENDERS = 20;
const HOT_MESSAGES_PER_SENDER = 50;
/** A sender that gets an error frame sends the same clientMessageId again, after retryAfterSeconds or this long, this many times at most. */
const HOT_RETRY_MS = 50;
const HOT_MAX_ATTEMPTS = 20;
/** Group sends timed per group size (one in flight), after the warm-up. */
const GROUP_SAMPLES = 100;

// ---- clients ---------------------------------------------------------------------------------------

interface Party extends Account {
  box: nacl.BoxKeyPair;
}

interface Delivery {
  /** ws.send on the sender's socket -> the message frame arriving on the recipient's socket. */
  latencyMs: number;
  /** ws.send -> the ack arriving on the sender's socket. */
  ackMs: number;
  deliveredAt: number;
}

interface InFlight {
  id: string;
  sentAt: number;
  deliveredAt?: number;
  ackedAt?: number;
  verify: boolean;
  resolve(d: Delivery): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/** What a real app does to get a socket: a single-use ticket over HTTP, then ?ticket= on the upgrade. */
async function connect(rt: Runtime, account: Account): Promise<WebSocket> {
  const res = await request(rt.httpUrl, 'POST', '/api/ws/ticket', { headers: bearer(account.accessToken) });
  if (res.status !== 201) throw new Error(`ticket failed: ${res.status} ${res.text}`);
  const ws = new WebSocket(`${rt.wsUrl}/?ticket=${res.json.ticket}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, r) => reject(new Error(`upgrade refused: ${r.statusCode}`)));
    ws.once('error', reject);
  });
  return ws;
}

/** One sender and one recipient, each its own user on its own socket; at most one message in flight. */
class Pair {
  conversationId?: string;
  private sockets: WebSocket[] = [];
  private inflight?: InFlight;

  readonly sender: Party;
  readonly recipient: Party;
  /** The box key both sides derive (an app computes it once per peer, as nacl.box.before). */
  private readonly shared: Uint8Array;

  constructor(sender: Party, recipient: Party) {
    this.sender = sender;
    this.recipient = recipient;
    this.shared = nacl.box.before(recipient.box.publicKey, sender.box.secretKey);
  }

  get connected(): boolean {
    return this.sockets.length === 2;
  }

  async connect(rt: Runtime): Promise<void> {
    const [s, r] = [await connect(rt, this.sender), await connect(rt, this.recipient)];
    s.on('message', (data) => this.onSenderFrame(performance.now(), data));
    r.on('message', (data) => this.onRecipientFrame(performance.now(), data));
    for (const ws of [s, r]) ws.on('close', () => this.inflight?.reject(new Error('socket closed mid-send')));
    this.sockets = [s, r];
  }

  /** Sends one sealed message and resolves once the recipient has it and the sender has its ack. */
  send(verify = false, attachmentIds?: string[]): Promise<Delivery> {
    if (this.inflight) throw new Error('a pair sends one message at a time');
    const id = randomUUID();
    const nonce = nacl.randomBytes(24);
    const box = nacl.box.after(new TextEncoder().encode(PLAINTEXT), nonce, this.shared);
    const frame = JSON.stringify({
      action: 'sendMessage',
      to: this.recipient.userId,
      clientMessageId: id,
      ciphertext: Buffer.from(box).toString('base64'),
      nonce: Buffer.from(nonce).toString('base64'),
      senderKeyVersion: 1,
      recipientKeyVersion: 1,
      ...(attachmentIds ? { attachmentIds } : {}),
    });
    return new Promise<Delivery>((resolve, reject) => {
      const done = (fn: () => void) => {
        if (this.inflight) clearTimeout(this.inflight.timer);
        this.inflight = undefined;
        fn();
      };
      this.inflight = {
        id,
        verify,
        resolve: (d) => done(() => resolve(d)),
        reject: (e) => done(() => reject(e)),
        timer: setTimeout(() => this.inflight?.reject(new Error(`message ${id} not delivered and acked within ${SEND_TIMEOUT_MS} ms`)), SEND_TIMEOUT_MS),
        sentAt: performance.now(),
      };
      this.sockets[0]!.send(frame);
    });
  }

  private settle(): void {
    const f = this.inflight;
    if (f?.deliveredAt === undefined || f.ackedAt === undefined) return;
    f.resolve({ latencyMs: f.deliveredAt - f.sentAt, ackMs: f.ackedAt - f.sentAt, deliveredAt: f.deliveredAt });
  }

  private onSenderFrame(at: number, data: RawData): void {
    const frame = JSON.parse(data.toString());
    const f = this.inflight;
    if (frame.type === 'ack' && f && frame.clientMessageId === f.id) {
      f.ackedAt = at;
      this.conversationId = frame.conversationId;
      this.settle();
    } else if (frame.type === 'error' || frame.type === undefined) {
      // error frames ({type:'error'}) and the gateway's own ({message:'Too Many Requests'}) carry no id
      f?.reject(new Error(`sender got ${data.toString()}`));
    }
  }

  private onRecipientFrame(at: number, data: RawData): void {
    const frame = JSON.parse(data.toString());
    const f = this.inflight;
    if (frame.type !== 'message' || !f || frame.clientMessageId !== f.id) return;
    if (f.verify) {
      // the recipient's own derivation, not the shared key the sender used
      const plain = nacl.box.open(
        Buffer.from(frame.ciphertext, 'base64'),
        Buffer.from(frame.nonce, 'base64'),
        this.sender.box.publicKey,
        this.recipient.box.secretKey,
      );
      if (!plain || new TextDecoder().decode(plain) !== PLAINTEXT) return f.reject(new Error('recipient could not decrypt the message'));
      if (frame.senderId !== this.sender.userId) return f.reject(new Error('wrong senderId on the delivered message'));
    }
    f.deliveredAt = at;
    this.settle();
  }

  async close(): Promise<void> {
    await Promise.all(
      this.sockets.map((ws) => new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : (ws.once('close', () => resolve()), ws.close())))),
    );
  }
}

// ---- CPU ------------------------------------------------------------------------------------------------

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Our descendant processes (DynamoDB Local's JVM), from /proc; empty where there is no /proc. */
function descendants(pid: number): number[] {
  try {
    const kids = readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    );
    return kids.flatMap((k) => [k, ...descendants(k)]);
  } catch {
    return [];
  }
}

/** CPU milliseconds used so far by this process and by its children (null without /proc). */
function cpuNow(): { node: number; children: number | null } {
  const { user, system } = process.cpuUsage();
  const kids = descendants(process.pid);
  let ticks = 0;
  for (const pid of kids) {
    try {
      // fields after the ")" of the command name: utime and stime are the 12th and 13th
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return { node: (user + system) / 1000, children: kids.length ? (ticks / CLOCK_TICKS) * 1000 : null };
}

// ---- statistics ------------------------------------------------------------------------------------

interface Latency {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

function latency(values: readonly number[]): Latency {
  return {
    n: values.length,
    p50: round(percentile(values, 50)),
    p90: round(percentile(values, 90)),
    p99: round(percentile(values, 99)),
    max: round(Math.max(...values)),
    mean: round(mean(values)),
  };
}

const ratio = (a: number, b: number) => round(a / b, 1);

async function pool<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

// ---- hot recipient ---------------------------------------------------------------------------------

interface HotRecipientResult {
  senders: number;
  messagesPerSender: number;
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  /** Error frames the senders got (the handler's, by code, and the gateway's own), retries included. */
  errorFrames: number;
  busyFrames: number;
  errorFramesByCode: Record<string, number>;
  /** Sends that needed more than one attempt, and those that never got an ack. */
  retriedSends: number;
  unacked: number;
  /** On the recipient's socket, by clientMessageId: messages never delivered, extra copies, distinct messageIds beyond one per message. */
  delivered: number;
  missing: number;
  duplicates: number;
  extraMessageIds: number;
  ackLatency: Latency;
}

/**
 * Many senders to one recipient: each sender keeps one message in flight (waits for its ack; on an
 * error frame, sends the same clientMessageId again), the recipient's one socket collects what
 * arrives, then every message is checked to have arrived exactly once.
 */
async function hotRecipient(rt: Runtime, senders: Party[], recipient: Party): Promise<HotRecipientResult> {
  const recipientSocket = await connect(rt, recipient);
  const senderSockets = await Promise.all(senders.map((s) => connect(rt, s)));
  const deliveries = new Map<string, { copies: number; messageIds: Set<string> }>();
  let lastDeliveryAt = 0;
  const expected = new Set<string>();
  recipientSocket.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    if (frame.type !== 'message' || !expected.has(frame.clientMessageId)) return;
    const d = deliveries.get(frame.clientMessageId) ?? { copies: 0, messageIds: new Set<string>() };
    d.copies++;
    d.messageIds.add(frame.messageId);
    deliveries.set(frame.clientMessageId, d);
    lastDeliveryAt = performance.now();
  });
  const errorFramesByCode: Record<string, number> = {};
  let retriedSends = 0;
  let unacked = 0;
  const acks: number[] = [];
  const started = performance.now();
  try {
    await Promise.all(
      senders.map(async (sender, i) => {
        const ws = senderSockets[i]!;
        const shared = nacl.box.before(recipient.box.publicKey, sender.box.secretKey);
        for (let m = 0; m < HOT_MESSAGES_PER_SENDER; m++) {
          const id = randomUUID();
          expected.add(id);
          const nonce = nacl.randomBytes(24);
          const frame = JSON.stringify({
            action: 'sendMessage',
            to: recipient.userId,
            clientMessageId: id,
            ciphertext: Buffer.from(nacl.box.after(new TextEncoder().encode(PLAINTEXT), nonce, shared)).toString('base64'),
            nonce: Buffer.from(nonce).toString('base64'),
            senderKeyVersion: 1,
            recipientKeyVersion: 1,
          });
          const t0 = performance.now();
          let acked = false;
          for (let attempt = 1; attempt <= HOT_MAX_ATTEMPTS && !acked; attempt++) {
            if (attempt === 2) retriedSends++;
            // the ack for this id, or the first error frame (errors carry no id; one in flight per sender)
            const answer = await new Promise<{ ack: true } | { ack: false; code: string; retryMs: number }>((resolve, reject) => {
              const timer = setTimeout(
                () => (ws.off('message', onFrame), reject(new Error(`hot recipient: no answer to ${id} in ${SEND_TIMEOUT_MS} ms`))),
                SEND_TIMEOUT_MS,
              );
              const onFrame = (data: RawData) => {
                const f = JSON.parse(data.toString());
                if (f.type === 'ack' && f.clientMessageId === id) {
                  clearTimeout(timer);
                  ws.off('message', onFrame);
                  resolve({ ack: true });
                } else if (f.type === 'error' || f.type === undefined) {
                  clearTimeout(timer);
                  ws.off('message', onFrame);
                  resolve({
                    ack: false,
                    code: f.type === 'error' ? String(f.code) : `gateway: ${f.message}`,
                    retryMs: (f.retryAfterSeconds ?? 0) * 1000 || HOT_RETRY_MS,
                  });
                }
              };
              ws.on('message', onFrame);
              ws.send(frame);
            });
            if (answer.ack) acked = true;
            else {
              errorFramesByCode[answer.code] = (errorFramesByCode[answer.code] ?? 0) + 1;
              await new Promise((resolve) => setTimeout(resolve, answer.retryMs));
            }
          }
          if (acked) acks.push(performance.now() - t0);
          else unacked++;
        }
      }),
    );
    // every message that was acked has been pushed by now or is on its way: wait for the stragglers
    const deadline = performance.now() + 5000;
    while (performance.now() < deadline && [...expected].some((id) => !deliveries.has(id))) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 200)); // room for a late duplicate
  } finally {
    await Promise.all(
      [recipientSocket, ...senderSockets].map(
        (ws) => new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : (ws.once('close', () => resolve()), ws.close()))),
      ),
    );
  }
  const messages = expected.size;
  const seconds = (lastDeliveryAt - started) / 1000;
  const copies = [...deliveries.values()];
  const errorFrames = Object.values(errorFramesByCode).reduce((n, c) => n + c, 0);
  return {
    senders: senders.length,
    messagesPerSender: HOT_MESSAGES_PER_SENDER,
    messages,
    seconds: round(seconds, 2),
    messagesPerSecond: round(deliveries.size / seconds, 1),
    errorFrames,
    busyFrames: errorFramesByCode['busy'] ?? 0,
    errorFramesByCode,
    retriedSends,
    unacked,
    delivered: deliveries.size,
    missing: messages - deliveries.size,
    duplicates: copies.reduce((n, d) => n + d.copies - 1, 0),
    extraMessageIds: copies.reduce((n, d) => n + d.messageIds.size - 1, 0),
    ackLatency: latency(acks),
  };
}

// ---- the run -----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = performance.now();
  const rt = await startTestRuntime();
  // Handler modules (and so these) read their configuration at import: only after the runtime set it.
  const { config, db } = await import('../functions/wiring/platform.ts');
  const { managementClient } = await import('../functions/adapters/connections.ts');
  const { client: dynamo, doc, table: tableName } = db();
  // item sizes for transactional write units, read through a client of our own (not metered)
  const sizeClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: process.env.AWS_REGION, endpoint: rt.dynamoEndpoint }));
  const sizeOf = async (TableName: string, Key: Record<string, unknown>) =>
    itemBytes((await sizeClient.send(new GetCommand({ TableName, Key, ConsistentRead: true }))).Item ?? {});
  const dynamoMeter = new SdkMeter('dynamodb', sizeOf).attach(dynamo);
  const postMeter = new SdkMeter('connections').attach(managementClient(config().wsCallbackUrl!, config().region));
  const pairs: Pair[] = [];
  const fresh: Pair[] = [];

  /** The floor: what any send must at least do, store one item and find the recipient's connections. */
  async function floorOnce(pair: Pair): Promise<number> {
    const now = Date.now();
    const messageId = randomUUID();
    const item = {
      pk: 'CONV#bench-floor',
      sk: `MSG#${messageId}`,
      conversationId: 'bench-floor',
      messageId,
      clientMessageId: messageId,
      senderId: pair.sender.userId,
      recipientId: pair.recipient.userId,
      ciphertext: Buffer.alloc(PLAINTEXT.length + 16).toString('base64'),
      nonce: Buffer.alloc(24).toString('base64'),
      senderKeyVersion: 1,
      recipientKeyVersion: 1,
      sentAt: new Date(now).toISOString(),
      expiresAt: Math.floor(now / 1000) + 3600,
    };
    dynamoMeter.paused = true;
    try {
      const t0 = performance.now();
      await doc.send(new PutCommand({ TableName: tableName('messages'), Item: item }));
      await doc.send(
        new QueryCommand({
          TableName: tableName('connections'),
          IndexName: 'byUser',
          KeyConditionExpression: 'userId = :u',
          ExpressionAttributeValues: { ':u': pair.recipient.userId },
        }),
      );
      return performance.now() - t0;
    } finally {
      dynamoMeter.paused = false;
    }
  }

  /** One message in flight at a time, round-robin over the pairs, a floor sample after each send. */
  async function oneAtATime(active: Pair[], warmup: number) {
    const sends: number[] = [];
    const acks: number[] = [];
    const floors: number[] = [];
    for (let i = 0; i < warmup + SAMPLES; i++) {
      if (i === warmup) {
        dynamoMeter.reset();
        postMeter.reset();
      }
      const pair = active[i % active.length]!;
      // alternate the order so neither measurement always follows the other
      const floorFirst = i % 2 === 1;
      const f1 = floorFirst ? await floorOnce(pair) : undefined;
      const d = await pair.send();
      const f = f1 ?? (await floorOnce(pair));
      if (i >= warmup) {
        sends.push(d.latencyMs);
        acks.push(d.ackMs);
        floors.push(f);
      }
    }
    return { sends, acks, floors, dynamodb: perAction(dynamoMeter.snapshot(), SAMPLES), connections: perAction(postMeter.snapshot(), SAMPLES) };
  }

  /** Floor samples one after another (to bracket a window that cannot interleave them). */
  async function floorSeries(pair: Pair, n: number): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(await floorOnce(pair));
    return out;
  }

  /** Every pair keeps one message in flight (closed loop) until SAMPLES are collected after warm-up. */
  async function allAtOnce(active: Pair[]) {
    const sends: number[] = [];
    let delivered = 0;
    const floorBefore = await floorSeries(active[0]!, Math.ceil(SAMPLES / 2));
    const t0 = performance.now();
    await Promise.all(
      active.map(async (pair) => {
        for (let k = 0; sends.length < SAMPLES; k++) {
          const d = await pair.send();
          delivered++;
          if (k >= 2) sends.push(d.latencyMs);
        }
      }),
    );
    const messagesPerSecond = round(delivered / ((performance.now() - t0) / 1000), 1);
    return { sends, messagesPerSecond, floors: [...floorBefore, ...(await floorSeries(active[0]!, Math.ceil(SAMPLES / 2)))] };
  }

  /** Closed loop on every pair for a fixed window; counts messages that reached their recipient in it. */
  async function sustained(active: Pair[], seconds: number, op: (pair: Pair) => Promise<{ at: number; ms: number }>) {
    const start = performance.now() + 1000; // one second of ramp-up is not counted
    const end = start + seconds * 1000;
    const inWindow: number[] = [];
    let cpuAtStart: ReturnType<typeof cpuNow> | undefined;
    const startTimer = setTimeout(() => (cpuAtStart = cpuNow()), start - performance.now());
    await Promise.all(
      active.map(async (pair) => {
        while (performance.now() < end) {
          const { at, ms } = await op(pair);
          if (at >= start && at < end) inWindow.push(ms);
        }
      }),
    );
    clearTimeout(startTimer);
    // CPU over the window (the in-flight tail after it is a few ms of one op per pair)
    const cpuAtEnd = cpuNow();
    const perOp = (a: number | null, b: number | null) => (a === null || b === null ? null : round((b - a) / inWindow.length, 2));
    return {
      perSecond: round(inWindow.length / seconds, 1),
      latency: latency(inWindow),
      cpuMsPerOp: { node: perOp(cpuAtStart?.node ?? null, cpuAtEnd.node), dynamodbLocal: perOp(cpuAtStart?.children ?? null, cpuAtEnd.children) },
    };
  }
  const sendOp = async (pair: Pair) => {
    const d = await pair.send();
    return { at: d.deliveredAt, ms: d.latencyMs };
  };
  const floorOp = async (pair: Pair) => {
    const ms = await floorOnce(pair);
    return { at: performance.now(), ms };
  };

  try {
    const maxPairs = Math.max(...CLIENTS) / 2;
    const party = async (): Promise<Party> => ({ ...(await signUp(rt, { displayName: 'Bench' })), box: nacl.box.keyPair() });
    console.log(`messaging: signing up ${2 * (maxPairs + FRESH_PAIRS)} users...`);
    const people = await pool(Array.from({ length: 2 * (maxPairs + FRESH_PAIRS) }), 4, party);
    for (let i = 0; i < people.length; i += 2) pairs.push(new Pair(people[i]!, people[i + 1]!));
    fresh.push(...pairs.splice(maxPairs));

    const configs = [];
    let throughput;
    for (const clients of CLIENTS) {
      const active = pairs.slice(0, clients / 2);
      const joining = active.filter((p) => !p.connected);
      for (const p of joining) await p.connect(rt);
      // each new pair's first message creates its conversation (a different path); verify it decrypts
      for (const p of joining) await p.send(true);
      console.log(`messaging: ${clients} clients connected (${rt.ws.connections.size} sockets at the gateway); timing...`);
      const one = await oneAtATime(active, clients === CLIENTS[0] ? FIRST_WARMUP_SENDS : WARMUP_SENDS);
      const all = await allAtOnce(active);
      const floor = latency(one.floors);
      const floorAround = latency(all.floors);
      const idle = latency(one.sends);
      const loaded = latency(all.sends);
      configs.push({
        clients,
        pairs: active.length,
        socketsAtGateway: rt.ws.connections.size,
        floor,
        oneInFlight: { latency: idle, ackLatency: latency(one.acks), ratioToFloor: { p50: ratio(idle.p50, floor.p50), p99: ratio(idle.p99, floor.p99) } },
        allPairsSending: {
          inFlight: active.length,
          latency: loaded,
          messagesPerSecond: all.messagesPerSecond,
          floor: floorAround,
          ratioToFloor: { p50: ratio(loaded.p50, floorAround.p50), p99: ratio(loaded.p99, floorAround.p99) },
        },
        perSend: { dynamodb: one.dynamodb, connections: one.connections },
      });
      if (clients === THROUGHPUT_CLIENTS) {
        console.log(
          `messaging: sustained throughput with ${clients} clients, ${THROUGHPUT_SECONDS} s (floor: ${THROUGHPUT_SECONDS / 2} s before and after)...`,
        );
        const floorBefore = await sustained(active, THROUGHPUT_SECONDS / 2, floorOp);
        const messages = await sustained(active, THROUGHPUT_SECONDS, sendOp);
        const floorAfter = await sustained(active, THROUGHPUT_SECONDS / 2, floorOp);
        const floorPerSecond = round((floorBefore.perSecond + floorAfter.perSecond) / 2, 1);
        throughput = {
          clients,
          concurrency: active.length,
          windowSeconds: THROUGHPUT_SECONDS,
          messagesPerSecond: messages.perSecond,
          latency: messages.latency,
          cpuMsPerMessage: messages.cpuMsPerOp,
          floorOpsPerSecond: floorPerSecond,
          floorOpsPerSecondBeforeAfter: [floorBefore.perSecond, floorAfter.perSecond],
          floorCpuMsPerOp: floorAfter.cpuMsPerOp,
          ratioToFloor: ratio(messages.perSecond, floorPerSecond),
        };
      }
    }

    console.log('messaging: capacity units (ReturnConsumedCapacity)...');
    dynamoMeter.capacity = true;
    dynamoMeter.reset();
    // calls between one send's start and the next's belong to that send (sends run one at a time)
    const spansPerSend: CallSpan[][] = [];
    for (let i = 0; i < CAPACITY_SENDS; i++) {
      spansPerSend.at(-1)?.push(...dynamoMeter.takeSpans());
      await pairs[i % pairs.length]!.send();
      spansPerSend.push(dynamoMeter.takeSpans());
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    spansPerSend.at(-1)!.push(...dynamoMeter.takeSpans());
    const rounds = spansPerSend.map(roundTrips);
    const perSend = { ...perAction(dynamoMeter.snapshot(), CAPACITY_SENDS), roundTrips: { mean: round(mean(rounds), 2), max: Math.max(...rounds) } };
    for (const p of fresh) await p.connect(rt);
    dynamoMeter.reset();
    for (const p of fresh) await p.send(true);
    const perFirstSend = perAction(dynamoMeter.snapshot(), fresh.length);
    // a send sharing one attachment: the uploads first (unmetered), then the sends one at a time, as above
    const attachmentSends = CAPACITY_SENDS / 4;
    const uploads: string[] = [];
    for (let i = 0; i < attachmentSends; i++) uploads.push(await uploadAttachment(rt, pairs[i % pairs.length]!));
    dynamoMeter.reset();
    const spansWithAttachment: CallSpan[][] = [];
    for (let i = 0; i < attachmentSends; i++) {
      spansWithAttachment.at(-1)?.push(...dynamoMeter.takeSpans());
      await pairs[i % pairs.length]!.send(false, [uploads[i]!]);
      spansWithAttachment.push(dynamoMeter.takeSpans());
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    spansWithAttachment.at(-1)!.push(...dynamoMeter.takeSpans());
    const attachmentRounds = spansWithAttachment.map(roundTrips);
    const perSendWithAttachment = {
      ...perAction(dynamoMeter.snapshot(), attachmentSends),
      roundTrips: { mean: round(mean(attachmentRounds), 2), max: Math.max(...attachmentRounds) },
    };
    const reader = pairs[0]!;
    dynamoMeter.reset();
    for (let i = 0; i < CAPACITY_PAGES; i++) {
      const res = await request(rt.httpUrl, 'GET', `/api/conversations/${reader.conversationId}/messages?limit=${HISTORY_PAGE}`, {
        headers: bearer(reader.recipient.accessToken),
      });
      if (res.status !== 200 || res.json.messages.length !== HISTORY_PAGE)
        throw new Error(`history page: ${res.status}, ${res.json?.messages?.length} messages`);
    }
    const pageOps = perAction(dynamoMeter.snapshot(), CAPACITY_PAGES);
    dynamoMeter.capacity = false;
    // the page's bytes as DynamoDB sizes them: the newest HISTORY_PAGE message items, read unmetered
    const newest = await sizeClient.send(
      new QueryCommand({
        TableName: tableName('messages'),
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :m)',
        ExpressionAttributeValues: { ':pk': `CONV#${reader.conversationId}`, ':m': 'MSG#' },
        ScanIndexForward: false,
        Limit: HISTORY_PAGE,
      }),
    );
    const pageBytes = (newest.Items ?? []).reduce((n, item) => n + itemBytes(item), 0);
    const queryUnits = pageOps.byOperation.Query?.readUnits ?? 0;
    const perPage = {
      ...pageOps,
      pageBytes,
      // DynamoDB's strongly consistent rule for the page's bytes, and what the rest of the route reads (auth)
      readUnitsForBytes: Math.ceil(pageBytes / 4096),
      authReadUnits: round(pageOps.readUnits - queryUnits, 2),
    };
    const localReports = perSend.readUnits + perSend.writeUnits > 0;

    console.log(`messaging: hot recipient, ${HOT_SENDERS} senders x ${HOT_MESSAGES_PER_SENDER} messages to one recipient...`);
    const hotPeople = await pool(Array.from({ length: HOT_SENDERS + 1 }), 4, party);
    const hot = await hotRecipient(rt, hotPeople.slice(1), hotPeople[0]!);

    const groups = await benchGroups(rt, { dynamodb: dynamoMeter, connections: postMeter }, GROUP_SAMPLES, percentile);

    report({
      configs,
      throughput: throughput!,
      perSend,
      perFirstSend,
      perSendWithAttachment,
      perPage,
      hot,
      groups,
      localReports,
      seconds: round((performance.now() - startedAt) / 1000, 1),
    });
  } finally {
    sizeClient.destroy();
    await Promise.all([...pairs, ...fresh].map((p) => p.close().catch(() => undefined)));
    await rt.stop();
    rmSync(rt.dataDir, { recursive: true, force: true });
  }
}

/** One finished upload of the pair's sender into its conversation (create, PUT to the local S3, complete): its id. */
async function uploadAttachment(rt: Runtime, pair: Pair): Promise<string> {
  const auth = bearer(pair.sender.accessToken);
  const blob = nacl.randomBytes(2048);
  const start = await request(rt.httpUrl, 'POST', '/api/attachments', { headers: auth, body: { size: blob.byteLength, conversationId: pair.conversationId } });
  if (start.status !== 201) throw new Error(`attachment upload: ${start.status} ${start.text}`);
  const put = await fetch(start.json.upload.url, { method: 'PUT', headers: start.json.upload.headers, body: blob });
  if (put.status !== 200) throw new Error(`attachment PUT: ${put.status}`);
  const done = await request(rt.httpUrl, 'POST', `/api/attachments/${start.json.attachmentId}/complete`, { headers: auth });
  if (done.status !== 200) throw new Error(`attachment complete: ${done.status} ${done.text}`);
  return start.json.attachmentId as string;
}

// ---- reporting ----------------------------------------------------------------------------------------

type Capacity = ReturnType<typeof perAction>;
type OpTally = Capacity['byOperation'][string];
type CpuPerOp = { node: number | null; dynamodbLocal: number | null };

function report(r: {
  configs: {
    clients: number;
    pairs: number;
    floor: Latency;
    oneInFlight: { latency: Latency; ackLatency: Latency; ratioToFloor: { p50: number; p99: number } };
    allPairsSending: { inFlight: number; latency: Latency; messagesPerSecond: number; floor: Latency; ratioToFloor: { p50: number; p99: number } };
    perSend: { dynamodb: Capacity; connections: Capacity };
  }[];
  throughput: {
    clients: number;
    concurrency: number;
    windowSeconds: number;
    messagesPerSecond: number;
    latency: Latency;
    cpuMsPerMessage: CpuPerOp;
    floorOpsPerSecond: number;
    floorOpsPerSecondBeforeAfter: number[];
    floorCpuMsPerOp: CpuPerOp;
    ratioToFloor: number;
  };
  perSend: Capacity & { roundTrips: { mean: number; max: number } };
  perFirstSend: Capacity;
  perSendWithAttachment: Capacity & { roundTrips: { mean: number; max: number } };
  perPage: Capacity & { pageBytes: number; readUnitsForBytes: number; authReadUnits: number };
  hot: HotRecipientResult;
  groups: GroupResult[];
  localReports: boolean;
  seconds: number;
}): void {
  const rows = r.configs.flatMap((c) => [
    { clients: c.clients, mode: 'one in flight', inFlight: 1, lat: c.oneInFlight.latency, rate: '', floor: c.floor, x: c.oneInFlight.ratioToFloor },
    {
      clients: c.clients,
      mode: 'all pairs sending',
      inFlight: c.allPairsSending.inFlight,
      lat: c.allPairsSending.latency,
      rate: c.allPairsSending.messagesPerSecond.toFixed(0),
      floor: c.allPairsSending.floor,
      x: c.allPairsSending.ratioToFloor,
    },
  ]);
  console.log(
    '\nEnd-to-end latency, ws.send -> recipient socket (ms). Floor: one PutItem + one Query, sampled between the one-in-flight\n' +
      'sends, and just before and after each all-pairs window',
  );
  console.log(
    formatTable(rows, [
      { header: 'clients', value: (x) => x.clients },
      { header: 'mode', value: (x) => x.mode },
      { header: 'in flight', value: (x) => x.inFlight },
      { header: 'n', value: (x) => x.lat.n },
      { header: 'p50', value: (x) => x.lat.p50.toFixed(2) },
      { header: 'p99', value: (x) => x.lat.p99.toFixed(2) },
      { header: 'msg/s', value: (x) => x.rate, align: 'right' },
      { header: 'floor p50', value: (x) => x.floor.p50.toFixed(2) },
      { header: 'floor p99', value: (x) => x.floor.p99.toFixed(2) },
      { header: 'x floor p50', value: (x) => x.x.p50.toFixed(1) },
      { header: 'x floor p99', value: (x) => x.x.p99.toFixed(1) },
    ]),
  );

  const t = r.throughput;
  console.log(
    `\nSustained: ${t.messagesPerSecond} messages/s delivered with ${t.clients} clients (${t.concurrency} senders, closed loop, ${t.windowSeconds} s; ` +
      `latency p50 ${t.latency.p50} ms, p99 ${t.latency.p99} ms) vs floor ${t.floorOpsPerSecond} PutItem+Query/s at the same concurrency: x${t.ratioToFloor}`,
  );
  const cpu = (c: CpuPerOp) => `Node ${c.node ?? '?'} ms + DynamoDB Local ${c.dynamodbLocal ?? '? (no /proc)'} ms`;
  console.log(
    `CPU per delivered message: ${cpu(t.cpuMsPerMessage)}; per floor PutItem+Query: ${cpu(t.floorCpuMsPerOp)} (${environment().cores} cores; clients, gateway and handlers share one Node process)`,
  );

  console.log('\nWhere a send goes (one in flight; mean call time summed per send; the two fan-out Queries run in parallel)');
  console.log(
    formatTable(r.configs, [
      { header: 'clients', value: (c) => c.clients },
      { header: 'e2e p50', value: (c) => c.oneInFlight.latency.p50.toFixed(2) },
      { header: 'e2e mean', value: (c) => c.oneInFlight.latency.mean.toFixed(2) },
      { header: 'ack mean', value: (c) => c.oneInFlight.ackLatency.mean.toFixed(2) },
      { header: 'DynamoDB calls', value: (c) => c.perSend.dynamodb.calls.toFixed(1) },
      { header: 'failed', value: (c) => c.perSend.dynamodb.failedCalls.toFixed(1) },
      { header: 'DynamoDB ms', value: (c) => c.perSend.dynamodb.ms.toFixed(2) },
      { header: '@connections POSTs', value: (c) => c.perSend.connections.calls.toFixed(1) },
      { header: 'POST ms', value: (c) => c.perSend.connections.ms.toFixed(2) },
    ]),
  );
  const ops = r.configs.at(-1)!.perSend.dynamodb.byOperation;
  console.log(
    `  per send at ${r.configs.at(-1)!.clients} clients: ` +
      Object.entries(ops)
        .map(([op, o]) => `${op} x${o.calls} ${o.ms.toFixed(2)} ms`)
        .join(', '),
  );

  const cap = [
    { action: 'send (existing conversation)', c: r.perSend },
    { action: 'send (first of a conversation)', c: r.perFirstSend },
    { action: 'send sharing one attachment', c: r.perSendWithAttachment },
    { action: `history page of ${HISTORY_PAGE}`, c: r.perPage },
  ];
  console.log(
    `\nDynamoDB capacity units per action (ReturnConsumedCapacity: INDEXES, ${r.localReports ? 'as reported by DynamoDB Local' : 'DynamoDB Local reported nothing'})`,
  );
  console.log(
    formatTable(cap, [
      { header: 'action', value: (x) => x.action },
      { header: 'n', value: (x) => x.c.actions },
      { header: 'calls', value: (x) => x.c.calls.toFixed(1) },
      { header: 'RCU', value: (x) => x.c.readUnits.toFixed(2) },
      { header: 'WCU by rules', value: (x) => x.c.ruleWriteUnits.toFixed(2) },
      { header: 'WCU Local said', value: (x) => x.c.writeUnits.toFixed(2) },
      { header: 'of which GSI', value: (x) => x.c.gsiWriteUnits.toFixed(2) },
      { header: 'failed calls', value: (x) => x.c.failedCalls.toFixed(1) },
      { header: 'their WCU by rules', value: (x) => x.c.estimatedUnreportedWriteUnits.toFixed(1) },
    ]),
  );
  const units = (op: string, o: OpTally) =>
    op.endsWith('(failed)')
      ? isReadOp(op)
        ? 'no units reported'
        : `~${o.estimatedWriteUnits} WCU by rules`
      : isReadOp(op)
        ? `${o.readUnits} RCU`
        : `${o.ruleWriteUnits} WCU${o.ruleWriteUnits !== o.writeUnits ? ` (Local: ${o.writeUnits})` : ''}`;
  for (const { action, c } of cap) {
    console.log(
      `  ${action}: ${Object.entries(c.byOperation)
        .map(([op, o]) => `${op} x${o.calls} ${units(op, o)}`)
        .join(', ')}`,
    );
  }
  console.log(
    `  send (existing conversation): ${r.perSend.roundTrips.mean} sequential DynamoDB round trips per send on average, at most ${r.perSend.roundTrips.max}\n` +
      '  (a round: calls that overlap in time; a new one starts when a call begins after every earlier call of that send ended)',
  );
  console.log(
    `  history page of ${HISTORY_PAGE}: ${r.perPage.pageBytes} bytes of messages, ceil(bytes / 4 KB) = ${r.perPage.readUnitsForBytes} RCU; ` +
      `the route read ${r.perPage.readUnits} RCU, of which ${r.perPage.authReadUnits} outside the history Query (auth and membership)`,
  );
  console.log(
    "  RCU and non-transactional WCU are DynamoDB Local's ConsumedCapacity. It under-counts multi-item TransactWriteItems, so\n" +
      '  "WCU by rules" recomputes their table part from item sizes (2 WCU per started KB per item; GSI part as reported).\n' +
      '  Failed calls (a failed condition, a cancelled transaction) return no ConsumedCapacity; "their WCU by rules" prices them\n' +
      '  as if written (AWS bills failed conditional writes) and is not included in the other WCU columns.',
  );

  const h = r.hot;
  console.log(
    `\nHot recipient: ${h.senders} senders x ${h.messagesPerSender} messages to one recipient, one in flight per sender: ` +
      `${h.messagesPerSecond} msg/s (${h.messages} in ${h.seconds} s; ack p50 ${h.ackLatency.p50} ms, p99 ${h.ackLatency.p99} ms)`,
  );
  console.log(
    `  error frames: ${h.errorFrames} (busy: ${h.busyFrames}${h.errorFrames ? `; ${JSON.stringify(h.errorFramesByCode)}` : ''}), sends retried: ${h.retriedSends}, never acked: ${h.unacked}; ` +
      `on the recipient's socket: ${h.delivered} of ${h.messages} delivered, ${h.missing} missing, ${h.duplicates} duplicates, ${h.extraMessageIds} extra messageIds`,
  );

  // 1:1 beside the groups: the capacity phase's send, and the largest configuration's one-in-flight latency
  const big = r.configs.at(-1)!;
  const oneToOne = {
    clients: big.clients,
    roundTrips: r.perSend.roundTrips,
    calls: r.perSend.calls,
    ruleWriteUnits: r.perSend.ruleWriteUnits,
    readUnits: r.perSend.readUnits,
    latency: { p50: big.oneInFlight.latency.p50, p99: big.oneInFlight.latency.p99 },
  };
  const g3 = r.groups[0]!;
  const gMax = r.groups.at(-1)!;
  const groupChecks = {
    roundTripsMaxBySize: Object.fromEntries(r.groups.map((g) => [g.members, g.perSend.roundTrips.max])),
    roundTripsConstant: r.groups.every((g) => g.perSend.roundTrips.max === g3.perSend.roundTrips.max),
    callsPerStartedHundredMembersMax: Math.max(...r.groups.map((g) => g.callsPerStartedHundredMembers)),
    /** Extra calls per extra member from the smallest to the largest group, times 100. */
    marginalCallsPer100Members: round(((gMax.perSend.calls - g3.perSend.calls) / (gMax.members - g3.members)) * 100, 1),
    ruleWriteUnitsPerMemberBySize: Object.fromEntries(r.groups.map((g) => [g.members, g.ruleWriteUnitsPerMember])),
    /** Linear or better: write units per member do not grow with the size. */
    writeUnitsAtMostLinear: r.groups.every((g, i) => i === 0 || g.ruleWriteUnitsPerMember <= r.groups[i - 1]!.ruleWriteUnitsPerMember + 0.01),
  };
  console.log(
    `\nGroup sends (sendMessage with conversationId + keys), one in flight, every member on its own socket; latency from ws.send to the\n` +
      "message frame on every member's socket (the last arrival) and on one designated member's (the first invitee); 1:1 for comparison",
  );
  console.log(
    formatTable(
      [
        {
          who: `1:1 (${oneToOne.clients} clients)`,
          rt: oneToOne.roundTrips,
          calls: oneToOne.calls,
          wcu: oneToOne.ruleWriteUnits,
          rcu: oneToOne.readUnits,
          posts: 1,
          all: oneToOne.latency,
          one: oneToOne.latency,
        },
        ...r.groups.map((g) => ({
          who: `group of ${g.members}`,
          rt: g.perSend.roundTrips,
          calls: g.perSend.calls,
          wcu: g.perSend.ruleWriteUnits,
          rcu: g.perSend.readUnits,
          posts: g.connectionsPostsPerSend,
          all: g.latencyToAllMembers,
          one: g.latencyToOneMember,
        })),
      ],
      [
        { header: 'send', value: (x) => x.who },
        { header: 'round trips mean/max', value: (x) => `${x.rt.mean} / ${x.rt.max}` },
        { header: 'calls', value: (x) => x.calls.toFixed(1) },
        { header: 'WCU by rules', value: (x) => x.wcu.toFixed(1) },
        { header: 'RCU', value: (x) => x.rcu.toFixed(1) },
        { header: 'POSTs', value: (x) => x.posts.toFixed(0) },
        { header: 'all p50', value: (x) => x.all.p50.toFixed(2) },
        { header: 'all p99', value: (x) => x.all.p99.toFixed(2) },
        { header: 'one p50', value: (x) => x.one.p50.toFixed(2) },
        { header: 'one p99', value: (x) => x.one.p99.toFixed(2) },
      ],
    ),
  );
  console.log(
    `  issue 12: round trips max by size ${JSON.stringify(groupChecks.roundTripsMaxBySize)} (constant: ${groupChecks.roundTripsConstant}); ` +
      `calls per started hundred members at most ${groupChecks.callsPerStartedHundredMembersMax} (marginal ${groupChecks.marginalCallsPer100Members} per 100 members); ` +
      `WCU per member ${JSON.stringify(groupChecks.ruleWriteUnitsPerMemberBySize)} (at most linear: ${groupChecks.writeUnitsAtMostLinear})`,
  );
  for (const g of r.groups) {
    console.log(
      `  group of ${g.members}: ${Object.entries(g.perSend.byOperation)
        .map(([op, o]) => `${op} x${o.calls} ${units(op, o)}`)
        .join(', ')}`,
    );
  }

  const path = writeResults('messaging.json', {
    benchmark: 'messaging',
    ...environment(),
    durationSeconds: r.seconds,
    method:
      'One process: laptop runtime (DynamoDB Local in memory, HTTP + WebSocket gateways calling the real handlers) and the clients. ' +
      'N clients = N/2 sender/recipient pairs, each user on its own socket, all connected while measuring. Latency: performance.now() ' +
      'at the sender\'s ws.send of a sealed sendMessage frame to the message frame arriving on the recipient\'s socket. "oneInFlight": ' +
      `after ${WARMUP_SENDS} warm-up sends, ${SAMPLES} sends round-robin over the pairs, each followed or preceded (alternating) by one ` +
      'floor sample: PutItem of a message-sized item plus a Query of the connections byUser GSI, same DocumentClient, same DynamoDB Local. ' +
      '"allPairsSending": every pair keeps one message in flight (closed loop) until the same number of samples is collected, ' +
      'first two per pair dropped; its floor is sampled (half before, half after) around that window. Sustained throughput: closed loop on every pair for a window after 1 s of ramp-up, counting ' +
      'messages that reached their recipient inside it; the floor runs the same loop with PutItem+Query, half a window before and ' +
      'half after. Capacity: every DynamoDB call carries ReturnConsumedCapacity INDEXES (only in that phase) and an SDK middleware ' +
      'sums ConsumedCapacity; read/write split by operation type. perSend.roundTrips: in that phase the middleware records each ' +
      "call's start and end (performance.now()); a send's calls are grouped into rounds of overlapping calls, a new round starting when " +
      'a call begins after every earlier call of that send ended; mean and max over the sends.',
    plaintextBytes: PLAINTEXT.length,
    samplesPerConfig: SAMPLES,
    configs: r.configs,
    throughput: r.throughput,
    hotRecipient: {
      method:
        `${HOT_SENDERS} new users each send ${HOT_MESSAGES_PER_SENDER} sealed messages to one new user, each sender on its own socket with one ` +
        'message in flight (the next is sent when the ack arrives); on an error frame the sender sends the same clientMessageId again ' +
        `after retryAfterSeconds or ${HOT_RETRY_MS} ms (at most ${HOT_MAX_ATTEMPTS} attempts). The recipient's one socket collects the message ` +
        'frames; each clientMessageId must arrive exactly once with one messageId. messagesPerSecond: distinct messages delivered over the ' +
        'time from the first send to the last delivery. Not metered (no ReturnConsumedCapacity).',
      ...r.hot,
    },
    capacity: {
      source: r.localReports ? 'DynamoDB Local ConsumedCapacity (ReturnConsumedCapacity: INDEXES)' : 'none reported',
      note:
        "readUnits, writeUnits, gsiReadUnits and gsiWriteUnits are DynamoDB Local's ConsumedCapacity. Local under-counts multi-item TransactWriteItems " +
        '(e.g. 4 table units for 6 items under 1 KB, where the rule is 2 per item), so ruleWriteUnits recomputes the table part of ' +
        'each TransactWriteItems from item sizes (2 WCU per started KB; updated items read back after the call) and keeps the GSI ' +
        'part as reported. Failed calls return no ConsumedCapacity: counted in unreportedCalls; estimatedUnreportedWriteUnits ' +
        'prices failed writes by the same rules as if they had been written (AWS bills a failed conditional write; whether and how ' +
        'it bills a cancelled transaction DynamoDB Local cannot show); it is not added to writeUnits or ruleWriteUnits. Local also reports 0 RCU for BatchGetItem ' +
        'keys that do not exist (first send of a conversation).',
      perSend: r.perSend,
      perFirstSendOfConversation: r.perFirstSend,
      perSendWithOneAttachment: r.perSendWithAttachment,
      perHistoryPage: { limit: HISTORY_PAGE, ...r.perPage },
    },
    groups: {
      method:
        `Per size (${GROUP_SIZES.join(', ')} members): new users with published keys; the admin creates the group and invites the rest ` +
        '(20 per request), each accepts; every member on its own socket. The admin sends sendMessage frames with conversationId and keys ' +
        '(a random 32-byte key, secretbox of the 100-byte text, the key boxed to each member, sender included), built before the clock ' +
        `starts; one message in flight. After 1 verified send (every member decrypts) and 10 warm-up sends, ${GROUP_SAMPLES} timed sends: ` +
        'latencyToAllMembers is ws.send to the message frame on the last member socket; latencyToOneMember to the designated member ' +
        '(the first invitee); ackLatency to the ack. Then 20 sends with ReturnConsumedCapacity as for 1:1 (perSend: calls, readUnits, ' +
        'ruleWriteUnits, roundTrips). callsPerStartedHundredMembers = calls / ceil(members / 100); ruleWriteUnitsPerMember = ruleWriteUnits / members. ' +
        "oneToOne repeats capacity.perSend and the largest configuration's one-in-flight latency (recipient's socket).",
      oneToOne,
      checks: groupChecks,
      sizes: r.groups,
    },
  });
  console.log(`\nmessaging: ${r.seconds} s; wrote ${path}`);
}

await main();
