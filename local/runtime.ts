// The laptop runtime: DynamoDB Local + the HTTP and WebSocket gateways calling the very same handler
// modules that CDK deploys. Used by `npm start` and by the end-to-end tests.
import { createServer, type Server } from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTables, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoLocal, type DynamoLocal } from './dynamodb.ts';
import { attachHttpGateway } from './http-gateway.ts';
import { projectRoot } from './lambda.ts';
import { ensureDevSecrets } from './secrets.ts';
import { parseOrigins } from '../lib/cors.ts';
import { attachWsGateway, type WsGateway } from './ws-gateway.ts';

export interface RuntimeOptions {
  /** 0 picks a free port. */
  httpPort?: number;
  wsPort?: number;
  host?: string;
  /** Keep DynamoDB data in memory only (throwaway runs, tests). */
  inMemory?: boolean;
  dataDir?: string;
  stage?: string;
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
  dynamoEndpoint: string;
  dataDir: string;
  /** The dev outbox: one JSON line per OTP message. */
  outboxFile: string;
  dynamo: DynamoLocal;
  ws: WsGateway;
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
  // Handler modules read their configuration once, at import, as in Lambda: a second runtime in the
  // same process would silently run with the first one's tables and settings.
  if (started) throw new Error('startRuntime() runs once per process');
  started = true;
  const host = options.host ?? '127.0.0.1';
  const stage = options.stage ?? 'local';
  const dataDir = options.dataDir ?? process.env.NEXCHAT_DATA_DIR ?? join(projectRoot, '.nexchat');
  const dynamo: DynamoLocal = await startDynamoLocal(options.inMemory ? {} : { dataDir: join(dataDir, 'dynamodb') });
  const httpServer = createServer();
  const wsServer = createServer();
  try {
    const tableEnv = await createTables(dynamo.endpoint, stage);
    const httpPort = await listen(httpServer, options.httpPort ?? 3000, host);
    const wsPort = await listen(wsServer, options.wsPort ?? 3001, host);
    const shown = host === '0.0.0.0' ? 'localhost' : host;
    const outboxFile = join(dataDir, 'outbox.jsonl');
    // Handler modules read their configuration at import, so the environment is set before loading them.
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
      ...tableEnv,
      ...options.env,
    });
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    await attachHttpGateway(httpServer, { throttleScale: options.throttleScale ?? 1, corsOrigins: options.corsOrigins ?? parseOrigins(process.env.NEXCHAT_CORS_ORIGINS) });
    const ws = await attachWsGateway(wsServer, { domainName: `${shown}:${wsPort}`, throttleScale: options.throttleScale ?? 1 });
    // Tells local tools (npm run admin) where this runtime's database and tables are.
    const runtimeFile = join(dataDir, 'runtime.json');
    writeFileSync(runtimeFile, `${JSON.stringify({ pid: process.pid, stage, dynamoEndpoint: dynamo.endpoint, tables: tableEnv }, null, 2)}\n`);
    let stopped: Promise<void> | undefined;
    return {
      httpUrl: `http://${shown}:${httpPort}`,
      wsUrl: `ws://${shown}:${wsPort}`,
      dynamoEndpoint: dynamo.endpoint,
      dataDir,
      outboxFile,
      dynamo,
      ws,
      stop() {
        stopped ??= (async () => {
          rmSync(runtimeFile, { force: true });
          await ws.closeAll();
          await Promise.all([close(httpServer), close(wsServer)]);
          await dynamo.stop();
        })();
        return stopped;
      },
    };
  } catch (error) {
    await Promise.allSettled([close(httpServer), close(wsServer)]);
    await dynamo.stop();
    throw error;
  }
}
