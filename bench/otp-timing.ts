// OTP request timing, run by `npm run bench` in its own process (or `node bench/otp-timing.ts` with
// --samples, --accounts): how long POST /api/auth/otp/request takes for identifiers with an account
// (the code is queued for delivery) and without one (a placeholder is queued, which the worker drops),
// interleaved in one run through the laptop runtime, and what DynamoDB calls and queue sends each
// makes. The goal: medians within 10%, so the answer's timing does not tell which accounts exist.
// Results: bench/results/otp-timing.json.
import { parseArgs } from 'node:util';
import { signUp } from '../tests/support/identity.ts';
import { request, startTestRuntime } from '../tests/support/runtime.ts';
import { environment, formatTable, round, summarize, writeResults, type Summary } from './lib.ts';
import { perAction, SdkMeter } from './sdk-meter.ts';

const { values: args } = parseArgs({ options: { samples: { type: 'string', default: '300' }, accounts: { type: 'string', default: '20' } } });
const SAMPLES = Number(args.samples);
const ACCOUNTS = Number(args.accounts);
if (!Number.isInteger(SAMPLES) || SAMPLES < 10) throw new Error(`--samples must be an integer >= 10, got ${args.samples}`);
if (!Number.isInteger(ACCOUNTS) || ACCOUNTS < 1 || ACCOUNTS > 9999) throw new Error(`--accounts must be an integer from 1 to 9999, got ${args.accounts}`);

/** The goal: |median(known) / median(unknown) - 1| <= this. */
const MAX_MEDIAN_GAP = 0.1;
const WARMUP = 50;
/** Requests per kind for the call counts (a phase of its own, after the timing). */
const COUNTED = 50;
/** `login` codes go to passwordless accounts only: the deliverable case; a free address is the other. */
const PURPOSE = 'login';

type Kind = 'known' | 'unknown';

/** Same length for both kinds, so the request bodies (and the placeholders) differ in content only. */
const address = (kind: Kind, i: number) => `${kind === 'known' ? 'kn' : 'un'}${String(i).padStart(4, '0')}.${process.pid}@bench.example`;

async function main(): Promise<void> {
  const startedAt = performance.now();
  const rt = await startTestRuntime();
  // Handler modules (and so these) read their configuration at import: only after the runtime set it.
  const { db } = await import('../functions/wiring/platform.ts');
  const meter = new SdkMeter('dynamodb').attach(db().client);
  meter.paused = true;
  let queueSends = 0;
  const queue = rt.queues.otp;
  const send = queue.send.bind(queue);
  queue.send = (body: string) => {
    queueSends++;
    return send(body);
  };

  try {
    console.log(`signing up ${ACCOUNTS} passwordless accounts...`);
    for (let i = 0; i < ACCOUNTS; i++) await signUp(rt, { email: address('known', i), passwordless: true });

    let n = 0;
    /** One request's wall time at the client (loopback HTTP included); the worker runs after, untimed. */
    async function once(kind: Kind): Promise<number> {
      const destination = address(kind, n++ % ACCOUNTS);
      const t0 = performance.now();
      const res = await request(rt.httpUrl, 'POST', '/api/auth/otp/request', { body: { channel: 'email', destination, purpose: PURPOSE } });
      const ms = performance.now() - t0;
      if (res.status !== 202) throw new Error(`${kind}: ${res.status} ${res.text}`);
      await rt.queues.otp.drained(); // delivery (the dev outbox) is not part of the request path
      return ms;
    }

    console.log(`warming up (${WARMUP} requests of each kind), then ${SAMPLES} of each, interleaved...`);
    for (let i = 0; i < WARMUP; i++) for (const kind of ['known', 'unknown'] as const) await once(kind);
    const samples: Record<Kind, number[]> = { known: [], unknown: [] };
    for (let i = 0; i < SAMPLES; i++) {
      // alternate which kind goes first, so neither always follows the other
      const order: Kind[] = i % 2 === 0 ? ['known', 'unknown'] : ['unknown', 'known'];
      for (const kind of order) samples[kind].push(await once(kind));
    }

    // what each request does: DynamoDB calls by operation, and queue sends
    const work: Record<Kind, { dynamodb: ReturnType<typeof perAction>; queueSendsPerRequest: number }> = {} as never;
    for (const kind of ['known', 'unknown'] as const) {
      meter.reset();
      meter.paused = false;
      const sendsBefore = queueSends;
      for (let i = 0; i < COUNTED; i++) await once(kind);
      meter.paused = true;
      work[kind] = { dynamodb: perAction(meter.snapshot(), COUNTED), queueSendsPerRequest: (queueSends - sendsBefore) / COUNTED };
    }

    const stats: Record<Kind, Summary> = { known: summarize(samples.known), unknown: summarize(samples.unknown) };
    const medianRatio = round(stats.known.median / stats.unknown.median, 3);
    const p90Ratio = round(stats.known.p90 / stats.unknown.p90, 3);
    const goalMet = Math.abs(medianRatio - 1) <= MAX_MEDIAN_GAP;
    const calls = (kind: Kind) =>
      Object.entries(work[kind].dynamodb.byOperation)
        .map(([op, t]) => `${op} ${t.calls}`)
        .join(', ');
    console.log(
      formatTable(
        (['known', 'unknown'] as const).map((kind) => ({ kind, ...stats[kind], calls: calls(kind), sends: work[kind].queueSendsPerRequest })),
        [
          { header: 'identifier', value: (r) => r.kind },
          { header: 'n', value: (r) => r.n },
          { header: 'p50 ms', value: (r) => r.median.toFixed(2), align: 'right' },
          { header: 'p90 ms', value: (r) => r.p90.toFixed(2), align: 'right' },
          { header: 'mean ms', value: (r) => r.mean.toFixed(2), align: 'right' },
          { header: 'min ms', value: (r) => r.min.toFixed(2), align: 'right' },
          { header: 'DynamoDB calls per request', value: (r) => r.calls },
          { header: 'queue sends', value: (r) => r.sends },
        ],
      ),
    );
    console.log(
      `known / unknown: p50 ${medianRatio.toFixed(3)}, p90 ${p90Ratio.toFixed(3)}; goal: medians within ${MAX_MEDIAN_GAP * 100}%: ${goalMet ? 'ok' : 'MISS'}`,
    );

    const path = writeResults('otp-timing.json', {
      benchmark: 'otp-timing',
      ...environment(),
      durationSeconds: round((performance.now() - startedAt) / 1000, 1),
      method:
        `One process: laptop runtime (DynamoDB Local in memory, the HTTP gateway calling the real handler, the in-process OTP queue and its worker). ` +
        `POST /api/auth/otp/request with purpose "${PURPOSE}" for ${ACCOUNTS} passwordless accounts (known: the code is queued for delivery) and ` +
        `${ACCOUNTS} free addresses of the same length (unknown: a placeholder is queued and the worker drops it), round-robin over the addresses. ` +
        `After ${WARMUP} warm-up requests of each kind, ${SAMPLES} of each, interleaved in pairs whose order alternates. A sample is performance.now() ` +
        `around the client's fetch (loopback HTTP included); after each request the queue is drained, untimed, so delivery never overlaps a request. ` +
        `Then ${COUNTED} more of each kind with an SDK middleware counting the handler's DynamoDB calls, and a counter on the queue's send. ` +
        `The local queue's send is in-process; in AWS both kinds make one SQS SendMessage.`,
      purpose: PURPOSE,
      samplesPerKind: SAMPLES,
      goal: { maxMedianGap: MAX_MEDIAN_GAP, met: goalMet },
      knownOverUnknown: { median: medianRatio, p90: p90Ratio },
      known: { requestMs: stats.known, work: work.known },
      unknown: { requestMs: stats.unknown, work: work.unknown },
    });
    console.log(`wrote ${path}`);
  } finally {
    await rt.stop();
  }
}

await main();
