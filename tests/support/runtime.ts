// Test support: one laptop runtime per test file (its own tables in the run's shared DynamoDB Local, or
// its own DynamoDB Local when run alone; gateways on free ports), plus small HTTP and WebSocket clients
// that say what a real app would see.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { rateLimitNames } from '../../contract/route.ts';
import { startRuntime, type Runtime } from '../../local/runtime.ts';
import { SHARED_DYNAMODB_ENV } from './global-setup.ts';

process.env.LOG_LEVEL ??= 'SILENT';

/** Generous limits for tests that are not about rate limiting, a cheap scrypt (cost asserted elsewhere), no offline grace. */
export const testEnv = {
  PASSWORD_SCRYPT_LOG2N: '12',
  RATE_LIMITS: JSON.stringify(Object.fromEntries(rateLimitNames.map((k) => [k, { limit: 10_000, windowSeconds: 60 }]))),
  OTP_RESEND_SECONDS: '0',
  // offline at once (still through the presence queue): tests/presence.test.ts is the one about the grace
  PRESENCE_OFFLINE_GRACE_SECONDS: '0',
};

/** Environment for an operator CLI run with `--aws`: the standard AWS_ENDPOINT_URL_DYNAMODB pointing
 *  at DynamoDB Local stands in for a deployed table, and the laptop data directory is out of reach. */
export function deployedCliEnv(rt: Pick<Runtime, 'dynamoEndpoint'>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DYNAMODB_ENDPOINT: '',
    NEXCHAT_DATA_DIR: '/nonexistent',
    AWS_ENDPOINT_URL_DYNAMODB: rt.dynamoEndpoint,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  };
}

export async function startTestRuntime(env: Record<string, string> = {}, options: { throttleScale?: number; corsOrigins?: string[] } = {}): Promise<Runtime> {
  // Set by tests/support/global-setup.ts under `npm test`; absent when a file runs alone.
  const shared = process.env[SHARED_DYNAMODB_ENV];
  return startRuntime({
    ...(shared ? { dynamoEndpoint: shared, tableStage: `test-${randomBytes(4).toString('hex')}`, dropTablesOnStop: true } : {}),
    throttleScale: options.throttleScale ?? 100,
    ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}),
    env: { ...testEnv, ...env },
    inMemory: true,
    httpPort: 0,
    wsPort: 0,
    s3Port: 0,
    stage: 'test',
    dataDir: mkdtempSync(join(tmpdir(), 'nexchat-test-')),
  });
}

export interface HttpReply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function request(
  base: string,
  method: string,
  path: string,
  init: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<HttpReply> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export interface TestSocket {
  ws: WebSocket;
  /** Resolves with the next frame (parsed JSON) that matches, in arrival order. */
  next(match?: (frame: any) => boolean, timeoutMs?: number): Promise<any>;
  send(frame: unknown): void;
  close(): Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
}

export async function openSocket(url: string): Promise<TestSocket> {
  const ws = new WebSocket(url);
  const frames: any[] = [];
  const waiters: { match: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    const i = waiters.findIndex((w) => w.match(frame));
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(frame);
    else frames.push(frame);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
  return {
    ws,
    closed,
    next(match = () => true, timeoutMs = 5000) {
      const i = frames.findIndex(match);
      if (i >= 0) return Promise.resolve(frames.splice(i, 1)[0]);
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve: (f: any) => (clearTimeout(timer), resolve(f)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error('no matching frame within timeout'));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    send(frame) {
      ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    },
    async close() {
      ws.close();
      await closed;
    },
  };
}

export async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
}
