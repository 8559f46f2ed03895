// The laptop runtime: DynamoDB Local + the HTTP and WebSocket gateways calling the very same handler
// modules that CDK deploys. Used by `npm start` and by the end-to-end tests.
import { createServer, type Server } from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTables, deleteTables, forwardDynamo, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoLocal, type DynamoLocal } from './dynamodb.ts';
import { attachHttpGateway } from './http-gateway.ts';
import { LocalClock, lambdaContext, loadHandler, projectRoot } from './lambda.ts';
import { LocalMetrics } from './metrics.ts';
import { LocalQueue } from './queue.ts';
import { queueSettings, scheduledJobs, workers } from '../lib/routes.ts';
import { LocalS3 } from './s3.ts';
import type { Db } from '../functions/adapters/dynamodb/db.ts';
import { ensureDevSecrets } from './secrets.ts';
import { parseOrigins } from '../lib/cors.ts';
import { webApp, type WebApp } from './web.ts';
import { attachWsGateway, type WsGateway } from './ws-gateway.ts';

export interface RuntimeOptions {
  /** 0 picks a free port. */
  httpPort?: number;
  wsPort?: number;
  /** The local S3 of attachment blobs (default 3002; 0 picks a free port). */
  s3Port?: number;
  host?: string;
  /** Keep DynamoDB data in memory only (throwaway runs, tests). */
  inMemory?: boolean;
  dataDir?: string;
  stage?: string;
  /**
   * Use this running DynamoDB (e.g. the one DynamoDB Local of a test run) instead of starting one;
   * stop() leaves it running. The handlers reach it through `runtime.dynamo`, a forwarder in this
   * process whose stop() cuts only this runtime off.
   */
  dynamoEndpoint?: string;
  /** The stage part of the table names (default: stage), so runtimes sharing one DynamoDB get their own tables. */
  tableStage?: string;
  /** With dynamoEndpoint: delete this runtime's tables on stop() (throwaway tables in a shared DynamoDB). */
  dropTablesOnStop?: boolean;
  /** Extra environment for the handlers (limits, OTP rules...), applied before they load. */
  env?: Record<string, string>;
  /** Multiplies the manifest's gateway throttles (tests not about throttling raise it). */
  throttleScale?: number;
  /** Browser origins allowed by CORS (default: NEXCHAT_CORS_ORIGINS, comma-separated). */
  corsOrigins?: readonly string[];
  /** Print dev-outbox messages (OTP codes) to the console. */
  echoOutbox?: boolean;
}

export interface Runtime {
  httpUrl: string;
  wsUrl: string;
  /**
   * The database's own address, for other processes (npm run admin): not the in-process forwarder,
   * which stalls while this process blocks (a test's spawnSync of the admin CLI).
   */
  dynamoEndpoint: string;
  dataDir: string;
  /** The dev outbox: one JSON line per OTP message. */
  outboxFile: string;
  /** This runtime's DynamoDB: the JVM it started, or its forwarder to `dynamoEndpoint`. */
  dynamo: DynamoLocal;
  /** The handlers' own DynamoDB client and table names (tests inspect what was stored through it). */
  db: Db;
  /** The clock handlers and gateways run on: tests move it forward instead of editing items or sleeping. */
  clock: LocalClock;
  /** In-process stand-ins for the SQS queues and their consumers (OTP delivery, the presence offline). */
  queues: { otp: LocalQueue; presence: LocalQueue };
  /** The business metrics the handlers published, kept in memory (never printed); in Lambda they are EMF lines on stdout. */
  metrics: LocalMetrics;
  ws: WsGateway;
  /** The sample web app served at `httpUrl` + `/` (bundled at its first request). */
  web: WebApp;
  /** The local S3 holding attachment blobs (tests look inside for plaintext), and its bucket. */
  s3: LocalS3;
  attachmentsBucket: string;
  /** Runs the scheduled attachment sweeper once now (it also runs every minute on its own). */
  sweepAttachments(): Promise<void>;
  stop(): Promise<void>;
}

/** Refuses to run the dev runtime (dev secrets, fixed credentials, outbox) inside AWS Lambda. */
export function assertNotInLambda(env: NodeJS.ProcessEnv = process.env): void {
  if (env.AWS_LAMBDA_FUNCTION_NAME || env.AWS_EXECUTION_ENV?.startsWith('AWS_Lambda')) {
    throw new Error('The NexChat laptop runtime refuses to start inside AWS Lambda (dev secrets and local credentials).');
  }
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('server has no port');
  return address.port;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

let started = false;

export async function startRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  assertNotInLambda();
  // The composition root parses the configuration once, at first use, as in Lambda: a second runtime in the
  // same process would silently run with the first one's tables and settings.
  if (started) throw new Error('startRuntime() runs once per process');
  started = true;
  const host = options.host ?? '127.0.0.1';
  const stage = options.stage ?? 'local';
  const dataDir = options.dataDir ?? process.env.NEXCHAT_DATA_DIR ?? join(projectRoot, '.nexchat');
  const tableStage = options.tableStage ?? stage;
  const dynamo: DynamoLocal = options.dynamoEndpoint
    ? await forwardDynamo(options.dynamoEndpoint)
    : await startDynamoLocal(options.inMemory ? {} : { dataDir: join(dataDir, 'dynamodb') });
  const dynamoEndpoint = options.dynamoEndpoint ?? dynamo.endpoint;
  const release = async () => {
    await dynamo.stop();
    // Through the real endpoint: a test may have cut the forwarder off already.
    if (options.dynamoEndpoint && options.dropTablesOnStop) await deleteTables(dynamoEndpoint, tableStage).catch(() => {});
  };
  const httpServer = createServer();
  const wsServer = createServer();
  const clock = new LocalClock();
  const attachmentsBucket = `nexchat-${stage}-attachments`;
  const corsOrigins = options.corsOrigins ?? parseOrigins(process.env.NEXCHAT_CORS_ORIGINS);
  /** The bucket's CORS origins: the configured ones, and (once its port is known) the web app npm start serves. */
  const s3Origins = [...corsOrigins];
  // attachment blobs: kept as files beside the tables (memory only for throwaway runs), signatures checked on the runtime's clock
  const s3 = new LocalS3({
    port: options.s3Port ?? 3002,
    host,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    buckets: [attachmentsBucket],
    now: () => clock.now(),
    corsOrigins: s3Origins,
    ...(options.inMemory ? {} : { dir: join(dataDir, 's3') }),
  });
  let sweeper: NodeJS.Timeout | undefined;
  try {
    await s3.start();
    const tableEnv = await createTables(dynamoEndpoint, tableStage);
    const httpPort = await listen(httpServer, options.httpPort ?? 3000, host);
    const wsPort = await listen(wsServer, options.wsPort ?? 3001, host);
    const shown = host === '0.0.0.0' ? 'localhost' : host;
    // a browser on the web app uploads straight to the bucket
    s3Origins.push(`http://${shown}:${httpPort}`, `http://localhost:${httpPort}`);
    const s3Endpoint = s3.endpoint.replace('0.0.0.0', 'localhost');
    const outboxFile = join(dataDir, 'outbox.jsonl');
    // The composition root parses the environment at first use, so it is set before any handler runs.
    Object.assign(process.env, {
      NEXCHAT_LOCAL: 'true',
      NEXCHAT_STAGE: stage,
      NEXCHAT_DATA_DIR: dataDir,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      WS_CALLBACK_URL: `http://${shown}:${wsPort}`,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      NEXCHAT_DEV_SECRETS_FILE: ensureDevSecrets(dataDir),
      NEXCHAT_OUTBOX_FILE: outboxFile,
      NEXCHAT_OUTBOX_ECHO: String(options.echoOutbox ?? false),
      ATTACHMENTS_BUCKET: attachmentsBucket,
      S3_ENDPOINT: s3Endpoint,
      ...tableEnv,
      ...options.env,
    });
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    // The composition root parses this environment at first use and runs on this clock.
    const platform = await import('../functions/wiring/platform.ts');
    platform.useClock(clock);
    // Business metrics: the same EMF lines as in Lambda, collected here instead of printed.
    const metrics = new LocalMetrics();
    (await import('../functions/wiring/metrics.ts')).useMetricsOutput(metrics.write);
    // Codes go out through the OTP queue, as in AWS: the request enqueues, the worker delivers
    // (retrying a failed send, then dead-lettering it to otp-dead-letters.jsonl).
    const otpQueue = new LocalQueue({
      name: `nexchat-${stage}-otp`,
      handler: await loadHandler(workers.otpDelivery),
      maxReceiveCount: queueSettings.otp.maxReceiveCount,
      deadLetterFile: join(dataDir, 'otp-dead-letters.jsonl'),
    });
    const identityWiring = await import('../functions/wiring/identity.ts');
    identityWiring.useLocalOtpQueue({
      async sendOtp(m) {
        otpQueue.send(
          JSON.stringify({ deliver: m.deliver, channel: m.channel, destination: m.destination, purpose: m.purpose, code: m.code, expiresAt: m.expiresAt }),
        );
      },
    });
    // A user's offline goes through the presence queue with the grace as its delay, as in AWS.
    const presenceQueue = new LocalQueue({
      name: `nexchat-${stage}-presence`,
      handler: await loadHandler(workers.presenceOffline),
      maxReceiveCount: queueSettings.presence.maxReceiveCount,
      deadLetterFile: join(dataDir, 'presence-dead-letters.jsonl'),
    });
    (await import('../functions/wiring/departure.ts')).useLocalPresenceQueue({
      async offlineLater(notice, delaySeconds) {
        presenceQueue.send(JSON.stringify({ userId: notice.userId, epoch: notice.epoch, lastSeen: notice.lastSeen }), { delaySeconds });
      },
    });
    const web = webApp({ wsUrl: `ws://${shown}:${wsPort}`, s3Endpoint });
    await attachHttpGateway(httpServer, {
      throttleScale: options.throttleScale ?? 1,
      corsOrigins,
      clock,
      site: web.serve,
    });
    const ws = await attachWsGateway(wsServer, { domainName: `${shown}:${wsPort}`, throttleScale: options.throttleScale ?? 1, clock });
    // The attachment sweeper, on a timer as EventBridge runs it (every minute here: the laptop's clock may be moved)
    const sweep = await loadHandler(scheduledJobs.attachmentSweeper);
    let sweeping: Promise<unknown> = Promise.resolve();
    const sweepAttachments = async () => {
      const run = sweeping.then(() => sweep({}, lambdaContext(scheduledJobs.attachmentSweeper)));
      sweeping = run.catch(() => {});
      await run;
    };
    sweeper = setInterval(() => sweepAttachments().catch((error: unknown) => console.error('attachment sweep failed:', error)), 60_000).unref();
    // Tells local tools (npm run admin) where this runtime's database and tables are.
    const runtimeFile = join(dataDir, 'runtime.json');
    writeFileSync(runtimeFile, `${JSON.stringify({ pid: process.pid, stage, dynamoEndpoint, tables: tableEnv }, null, 2)}\n`);
    let stopped: Promise<void> | undefined;
    return {
      httpUrl: `http://${shown}:${httpPort}`,
      wsUrl: `ws://${shown}:${wsPort}`,
      dynamoEndpoint,
      dataDir,
      outboxFile,
      dynamo,
      db: platform.db(),
      clock,
      queues: { otp: otpQueue, presence: presenceQueue },
      metrics,
      ws,
      web,
      s3,
      attachmentsBucket,
      sweepAttachments,
      stop() {
        stopped ??= (async () => {
          rmSync(runtimeFile, { force: true });
          clearInterval(sweeper);
          await sweeping;
          otpQueue.stop();
          await ws.closeAll();
          presenceQueue.stop(); // after the last $disconnect: nothing is left to queue
          await Promise.all([close(httpServer), close(wsServer), s3.stop()]);
          await release();
        })();
        return stopped;
      },
    };
  } catch (error) {
    clearInterval(sweeper);
    await Promise.allSettled([close(httpServer), close(wsServer), s3.stop()]);
    await release();
    throw error;
  }
}
