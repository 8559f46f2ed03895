// Group sends for bench/messaging.ts (issue 12): groups of 3, 10 and 100 members on the local gateway,
// every member on its own socket. Latency from the sender's ws.send to the message frame on every
// member's socket (the last of them) and on one designated member's (the first invitee); DynamoDB
// calls, capacity units and sequential round trips per send from the same meter as the 1:1 figures.
import { randomUUID } from 'node:crypto';
import nacl from 'tweetnacl';
import WebSocket, { type RawData } from 'ws';
import type { Runtime } from '../local/runtime.ts';
import { bearer, signUp, type Account } from '../tests/support/identity.ts';
import { request } from '../tests/support/runtime.ts';
import { mean, round } from './lib.ts';
import { perAction, roundTrips, type CallSpan, type SdkMeter } from './sdk-meter.ts';

export const GROUP_SIZES = [3, 10, 100];
const PLAINTEXT = 'x'.repeat(100);
const WARMUP = 10;
const CAPACITY_SENDS = 20;
const TIMEOUT_MS = 30_000;

interface Member extends Account {
  box: nacl.BoxKeyPair;
}

const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');

/** A user with a published key set (version 1), as the SDK leaves one. */
async function keyedMember(rt: Runtime): Promise<Member> {
  const account = await signUp(rt, { displayName: 'Bench' });
  const identity = nacl.sign.keyPair();
  const box = nacl.box.keyPair();
  const r = await request(rt.httpUrl, 'PUT', '/api/users/public-key', {
    headers: bearer(account.accessToken),
    body: { identityKey: b64(identity.publicKey), publicKey: b64(box.publicKey), signature: b64(nacl.sign.detached(box.publicKey, identity.secretKey)) },
  });
  if (r.status !== 200 && r.status !== 201) throw new Error(`public key: ${r.status} ${r.text}`);
  return { ...account, box };
}

async function connect(rt: Runtime, account: Account): Promise<WebSocket> {
  const res = await request(rt.httpUrl, 'POST', '/api/ws/ticket', { headers: bearer(account.accessToken) });
  if (res.status !== 201) throw new Error(`ticket failed: ${res.status} ${res.text}`);
  const ws = new WebSocket(`${rt.wsUrl}/?ticket=${res.json.ticket}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

interface GroupDelivery {
  /** ws.send -> the message frame on the last member's socket. */
  allMs: number;
  /** ws.send -> the message frame on the designated member's socket (the first invitee). */
  oneMs: number;
  ackMs: number;
}

/** One group: admin (the sender) plus size-1 members who accepted; one message in flight. */
class BenchGroup {
  readonly size: number;
  conversationId = '';
  private members: Member[] = [];
  private sockets: WebSocket[] = [];
  /** The message key boxed for each member is precomputed per member (nacl.box.before), as an app caches it. */
  private shared: Uint8Array[] = [];
  private inflight?: { id: string; t0: number; arrivals: Map<number, number>; ackAt?: number; verify: boolean; done(e?: Error): void };

  constructor(size: number) {
    this.size = size;
  }

  async setUp(rt: Runtime, pool: <T>(n: number, fn: () => Promise<T>) => Promise<T[]>): Promise<void> {
    this.members = await pool(this.size, () => keyedMember(rt));
    const [admin, ...rest] = this.members as [Member, ...Member[]];
    const call = (who: Account, method: string, path: string, body?: unknown) =>
      request(rt.httpUrl, method, path, { headers: bearer(who.accessToken), ...(body === undefined ? {} : { body }) });
    const created = await call(admin, 'POST', '/api/groups', { name: `Bench ${this.size}`, memberIds: rest.slice(0, 20).map((m) => m.userId) });
    if (created.status !== 201) throw new Error(`create group: ${created.status} ${created.text}`);
    this.conversationId = created.json.conversationId;
    for (let i = 20; i < rest.length; i += 20) {
      const r = await call(admin, 'POST', `/api/groups/${this.conversationId}/members`, { userIds: rest.slice(i, i + 20).map((m) => m.userId) });
      if (r.status !== 204) throw new Error(`invite: ${r.status} ${r.text}`);
    }
    for (let i = 0; i < rest.length; i += 4) {
      await Promise.all(
        rest.slice(i, i + 4).map(async (m) => {
          const r = await call(m, 'POST', `/api/groups/${this.conversationId}/invitations/accept`);
          if (r.status !== 200) throw new Error(`accept: ${r.status} ${r.text}`);
        }),
      );
    }
    this.shared = this.members.map((m) => nacl.box.before(m.box.publicKey, admin.box.secretKey));
    for (let i = 0; i < this.members.length; i += 10) this.sockets.push(...(await Promise.all(this.members.slice(i, i + 10).map((m) => connect(rt, m)))));
    this.sockets.forEach((ws, i) => ws.on('message', (data) => this.onFrame(i, performance.now(), data)));
  }

  /** Builds the sealed frame (untimed), then times ws.send -> every member's frame and the ack. */
  send(verify = false): Promise<GroupDelivery> {
    if (this.inflight) throw new Error('one message in flight per group');
    const id = randomUUID();
    const messageKey = nacl.randomBytes(32);
    const nonce = nacl.randomBytes(24);
    const keys: Record<string, { wrappedKey: string; nonce: string; keyVersion: number }> = {};
    this.members.forEach((m, i) => {
      const n = nacl.randomBytes(24);
      keys[m.userId] = { wrappedKey: b64(nacl.box.after(messageKey, n, this.shared[i]!)), nonce: b64(n), keyVersion: 1 };
    });
    const frame = JSON.stringify({
      action: 'sendMessage',
      conversationId: this.conversationId,
      clientMessageId: id,
      ciphertext: b64(nacl.secretbox(new TextEncoder().encode(PLAINTEXT), nonce, messageKey)),
      nonce: b64(nonce),
      senderKeyVersion: 1,
      keys,
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.inflight?.done(new Error(`group ${this.size}: ${id} not delivered to all within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      const t0 = performance.now();
      this.inflight = {
        id,
        t0,
        verify,
        arrivals: new Map(),
        done: (e) => {
          clearTimeout(timer);
          const f = this.inflight!;
          this.inflight = undefined;
          if (e) return reject(e);
          resolve({ allMs: Math.max(...f.arrivals.values()) - t0, oneMs: f.arrivals.get(1)! - t0, ackMs: f.ackAt! - t0 });
        },
      };
      this.sockets[0]!.send(frame);
    });
  }

  private onFrame(i: number, at: number, data: RawData): void {
    const f = this.inflight;
    const frame = JSON.parse(data.toString());
    if (!f) return;
    if (i === 0) {
      if (frame.type === 'ack' && frame.clientMessageId === f.id) f.ackAt = at;
      else if (frame.type === 'error' || frame.type === undefined) return f.done(new Error(`group ${this.size} sender got ${data.toString()}`));
    } else if (frame.type === 'message' && frame.clientMessageId === f.id) {
      if (f.verify) {
        const me = this.members[i]!;
        const key = nacl.box.open(
          Buffer.from(frame.key.wrappedKey, 'base64'),
          Buffer.from(frame.key.nonce, 'base64'),
          this.members[0]!.box.publicKey,
          me.box.secretKey,
        );
        const plain = key && nacl.secretbox.open(Buffer.from(frame.ciphertext, 'base64'), Buffer.from(frame.nonce, 'base64'), key);
        if (!plain || new TextDecoder().decode(plain) !== PLAINTEXT) return f.done(new Error(`group ${this.size}: member ${i} could not decrypt`));
      }
      f.arrivals.set(i, at);
    }
    if (f.ackAt !== undefined && f.arrivals.size === this.size - 1) f.done();
  }

  async close(): Promise<void> {
    await Promise.all(
      this.sockets.map((ws) => new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : (ws.once('close', () => resolve()), ws.close())))),
    );
  }
}

export interface GroupLatency {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export interface GroupResult {
  members: number;
  /** ws.send -> every member's socket (the last arrival). */
  latencyToAllMembers: GroupLatency;
  /** ws.send -> the designated member's socket (the first invitee). */
  latencyToOneMember: GroupLatency;
  ackLatency: GroupLatency;
  perSend: ReturnType<typeof perAction> & { roundTrips: { mean: number; max: number } };
  /** Calls per started hundred members: calls / ceil(members / 100). */
  callsPerStartedHundredMembers: number;
  /** Write units by DynamoDB's rules per member. */
  ruleWriteUnitsPerMember: number;
  connectionsPostsPerSend: number;
}

/**
 * Runs every group size: set up (untimed), warm-up, `samples` sends one at a time for latency, then
 * CAPACITY_SENDS metered sends for calls, units and round trips (one at a time, so a send's calls are
 * the ones between its start and the next send's).
 */
export async function benchGroups(
  rt: Runtime,
  meters: { dynamodb: SdkMeter; connections: SdkMeter },
  samples: number,
  pct: (values: readonly number[], p: number) => number,
): Promise<GroupResult[]> {
  const pool = async <T>(n: number, fn: () => Promise<T>): Promise<T[]> => {
    const out: T[] = [];
    for (let i = 0; i < n; i += 4) out.push(...(await Promise.all(Array.from({ length: Math.min(4, n - i) }, fn))));
    return out;
  };
  const lat = (v: number[]): GroupLatency => ({
    n: v.length,
    p50: round(pct(v, 50)),
    p99: round(pct(v, 99)),
    max: round(Math.max(...v)),
    mean: round(mean(v)),
  });
  const results: GroupResult[] = [];
  for (const size of GROUP_SIZES) {
    const g = new BenchGroup(size);
    console.log(`messaging: group of ${size}: signing up, inviting, accepting, connecting...`);
    await g.setUp(rt, pool);
    try {
      await g.send(true);
      for (let i = 0; i < WARMUP; i++) await g.send();
      const all: number[] = [];
      const one: number[] = [];
      const acks: number[] = [];
      for (let i = 0; i < samples; i++) {
        const d = await g.send();
        all.push(d.allMs);
        one.push(d.oneMs);
        acks.push(d.ackMs);
      }
      meters.dynamodb.capacity = true;
      meters.dynamodb.reset();
      meters.connections.reset();
      const spansPerSend: CallSpan[][] = [];
      for (let i = 0; i < CAPACITY_SENDS; i++) {
        spansPerSend.at(-1)?.push(...meters.dynamodb.takeSpans());
        await g.send();
        spansPerSend.push(meters.dynamodb.takeSpans());
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      spansPerSend.at(-1)!.push(...meters.dynamodb.takeSpans());
      meters.dynamodb.capacity = false;
      const rounds = spansPerSend.map(roundTrips);
      const perSend = { ...perAction(meters.dynamodb.snapshot(), CAPACITY_SENDS), roundTrips: { mean: round(mean(rounds), 2), max: Math.max(...rounds) } };
      results.push({
        members: size,
        latencyToAllMembers: lat(all),
        latencyToOneMember: lat(one),
        ackLatency: lat(acks),
        perSend,
        callsPerStartedHundredMembers: round(perSend.calls / Math.ceil(size / 100), 2),
        ruleWriteUnitsPerMember: round(perSend.ruleWriteUnits / size, 2),
        connectionsPostsPerSend: perAction(meters.connections.snapshot(), CAPACITY_SENDS).calls,
      });
    } finally {
      await g.close();
    }
  }
  return results;
}
