// What the local gateways need of Lambda: load a route's handler module (the same file CDK bundles)
// and call it with a Context shaped like the real one.
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { Route } from '../lib/routes.ts';

export const projectRoot = resolve(import.meta.dirname, '..');

/** Any route's handler: the gateway builds the event shape the route's kind expects. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- HTTP, WebSocket and authorizer handlers take different AWS event types
export type AnyHandler = (event: any, context: Context) => Promise<any>;

export async function loadHandler(route: Pick<Route, 'handler'>): Promise<AnyHandler> {
  const mod = (await import(pathToFileURL(resolve(projectRoot, route.handler)).href)) as { handler?: AnyHandler };
  if (typeof mod.handler !== 'function') throw new Error(`${route.handler} does not export a handler`);
  return mod.handler;
}

export function lambdaContext(route: Pick<Route, 'id' | 'timeoutSeconds' | 'memoryMb'>): Context {
  const timeoutMs = (route.timeoutSeconds ?? 10) * 1000;
  const deadline = Date.now() + timeoutMs;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `nexchat-local-${route.id}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:nexchat-local-${route.id}`,
    memoryLimitInMB: String(route.memoryMb ?? 256),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/nexchat-local-${route.id}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * The laptop's clock: real time plus an offset that tests move forward (token expiry, suspensions,
 * throttle refills), instead of editing items or sleeping. Handlers and gateways all read it.
 */
export class LocalClock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Moves time forward (never back: expiry checks assume a monotonic clock). */
  advance(ms: number): void {
    if (ms < 0) throw new Error('the clock only moves forward');
    this.offsetMs += ms;
  }
}

/** A token bucket per key, like API Gateway's rate/burst throttle. */
export class Throttler {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** Multiplies every rate and burst; tests that are not about throttling raise it. */
  private readonly scale: number;
  private readonly clock: { now(): number };

  constructor(scale = 1, clock: { now(): number } = { now: () => performance.now() }) {
    this.scale = scale;
    this.clock = clock;
  }

  take(key: string, baseRate: number, baseBurst: number, now = this.clock.now()): boolean {
    const rate = baseRate * this.scale;
    const burst = baseBurst * this.scale;
    const b = this.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

export function clientIp(remoteAddress: string | undefined): string {
  const ip = remoteAddress ?? '127.0.0.1';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
