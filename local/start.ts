// `npm start`: NexChat on this machine. Flags: --in-memory, --http-port N, --ws-port N, --s3-port N, --host H
// (or NEXCHAT_HTTP_PORT / NEXCHAT_WS_PORT / NEXCHAT_S3_PORT / NEXCHAT_HOST). Ctrl-C stops everything, Java included.
import { parseArgs } from 'node:util';
import { JavaMissingError } from './dynamodb.ts';
import { startRuntime } from './runtime.ts';

const { values } = parseArgs({
  options: {
    'in-memory': { type: 'boolean', default: false },
    'http-port': { type: 'string' },
    'ws-port': { type: 'string' },
    's3-port': { type: 'string' },
    host: { type: 'string' },
  },
});

function port(flag: string | undefined, env: string | undefined, fallback: number): number {
  const raw = flag ?? env;
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`Invalid port "${raw}"`);
    process.exit(2);
  }
  return n;
}

try {
  const runtime = await startRuntime({
    inMemory: values['in-memory'],
    httpPort: port(values['http-port'], process.env.NEXCHAT_HTTP_PORT, 3000),
    wsPort: port(values['ws-port'], process.env.NEXCHAT_WS_PORT, 3001),
    s3Port: port(values['s3-port'], process.env.NEXCHAT_S3_PORT, 3002),
    host: values.host ?? process.env.NEXCHAT_HOST ?? '127.0.0.1',
    echoOutbox: true,
  });
  // Bundled now, not at the first page load, so a broken web build shows here at once.
  const webReady = await runtime.web.build().then(
    () => '',
    (error: unknown) => `  (the web app failed to build: ${error instanceof Error ? error.message : String(error)})`,
  );
  console.log(
    [
      'NexChat is running.',
      `  Web app         ${runtime.httpUrl}/${webReady}`,
      `  HTTP API        ${runtime.httpUrl}   (try ${runtime.httpUrl}/api/health)`,
      `  WebSocket API   ${runtime.wsUrl}`,
      `  @connections    ${runtime.wsUrl.replace(/^ws/, 'http')}/@connections/{id}`,
      `  Local S3        ${runtime.s3.endpoint}/${runtime.attachmentsBucket}  (attachment blobs, presigned URLs checked)`,
      `  DynamoDB Local  ${runtime.dynamoEndpoint}  (${values['in-memory'] ? 'in memory' : `data in ${runtime.dataDir}`})`,
      `  Dev outbox      ${runtime.outboxFile}  (OTP codes, also printed here)`,
      'Press Ctrl-C to stop.',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping NexChat…`);
    runtime.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('shutdown failed:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
} catch (error) {
  if (error instanceof JavaMissingError) {
    console.error(error.message);
    process.exit(1);
  }
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    console.error(`Port in use: ${(error as Error).message}. Choose others with --http-port / --ws-port.`);
    process.exit(1);
  }
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
