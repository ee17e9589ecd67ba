import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { createAfterAnswer } from '../../src/api/after-answer';
import { createApp, type AppDeps } from '../../src/api/app';
import { createSecretBox } from '../../src/security/secret-box';
import { createLogger } from '../../src/logger';
import { apiMetrics, createRegistry } from '../../src/metrics';
import { connectStore, ensureIndexes, type Store } from '../../src/store';
import { createTemporalClient } from '../../src/temporal/client';
import { startTracing, type Tracing } from '../../src/tracing';
import { startReceiver, type Receiver } from './receiver';

/**
 * One isolated Herald per test file on the shared servers: its own database, its own
 * task queue, a real worker process (`node dist/src/worker.js`) and the API in-process.
 */

const ROOT = path.resolve(__dirname, '../..');
const WORKER_ENTRY = path.join(ROOT, 'dist/src/worker.js');

export interface SharedServers {
  temporalAddress: string;
  temporalUiUrl: string;
  mongoBaseUrl: string;
}

export function sharedServers(): SharedServers {
  const file = process.env.HERALD_TEST_STATE;
  if (!file) throw new Error('integration tests need the global setup (run them with "npx jest --selectProjects integration")');
  return JSON.parse(readFileSync(file, 'utf8')) as SharedServers;
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export class WorkerProcess {
  private constructor(readonly child: ChildProcess) {}

  static async start(env: Record<string, string>): Promise<WorkerProcess> {
    if (!existsSync(WORKER_ENTRY)) throw new Error(`${WORKER_ENTRY} is missing: run "npm run build" first`);
    const child = spawn(process.execPath, [WORKER_ENTRY], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 60_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Herald worker running')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`worker exited with ${code}:\n${output}`));
      });
    });
    child.stdout.resume();
    child.stderr.resume();
    return new WorkerProcess(child);
  }

  /** Sends a signal and waits for the process to end. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.kill(signal);
    return exited;
  }
}

export interface TestStack {
  url: string;
  adminKey: string;
  /** What the in-process API was built from, for tests that build a variant of it. */
  appDeps: AppDeps;
  store: Store;
  temporal: Client;
  connection: Connection;
  taskQueue: string;
  workerEnv: Record<string, string>;
  worker: WorkerProcess;
  /** The in-process API's tracing, when the stack was started with `otlpEndpoint`. */
  tracing?: Tracing;
  request<T = any>(method: string, route: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Extra environment for the worker process; a function is read when the stack starts (e.g. a server's port). */
  workerEnv?: Record<string, string> | (() => Record<string, string>);
  allowPrivateTargets?: boolean;
  /** Events per second per key (default: high enough never to matter). */
  ingestRate?: number;
  maxSubscriptionsPerTenant?: number;
  rejectionAlertIntervalMs?: number;
  /** An OTLP/HTTP collector both the worker and the in-process API export traces to; read when the stack starts. */
  otlpEndpoint?: () => string;
}

export async function startStack(options: StackOptions = {}): Promise<TestStack> {
  const shared = sharedServers();
  const suffix = randomBytes(4).toString('hex');
  const mongoUrl = `${shared.mongoBaseUrl}/herald_test_${suffix}`;
  const taskQueue = `herald-test-${suffix}`;
  const adminKey = `hk_admin_test_${randomBytes(12).toString('hex')}`;
  const allowPrivateTargets = options.allowPrivateTargets ?? true;
  const encryptionKey = randomBytes(32);
  const otlpEndpoint = options.otlpEndpoint?.();

  const store = await connectStore(mongoUrl);
  await ensureIndexes(store);
  const workerEnv: Record<string, string> = {
    TEMPORAL_ADDRESS: shared.temporalAddress,
    MONGO_URL: mongoUrl,
    HERALD_TASK_QUEUE: taskQueue,
    HERALD_ALLOW_PRIVATE_TARGETS: allowPrivateTargets ? '1' : '0',
    HERALD_WORKER_METRICS_PORT: '0',
    HERALD_ENCRYPTION_KEY: encryptionKey.toString('base64'),
    HERALD_LOG_LEVEL: 'info', // the harness waits for the "worker running" line; output is not shown
    // Tracing only where a test asks for it (never to a collector set in the shell); exported
    // every 100 ms rather than every 5 s, so the test sees the worker's spans soon.
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint ?? '',
    ...(otlpEndpoint && { OTEL_BSP_SCHEDULE_DELAY: '100' }),
    ...(typeof options.workerEnv === 'function' ? options.workerEnv() : options.workerEnv),
  };
  const worker = await WorkerProcess.start(workerEnv);

  const tracing = otlpEndpoint ? startTracing({ serviceName: 'herald-api', endpoint: otlpEndpoint }) : undefined;
  const temporal = createTemporalClient(shared.temporalAddress, 'default', tracing !== undefined);
  const registry = createRegistry('api');
  const appDeps: AppDeps = {
    temporal,
    connection: temporal.connection as Connection,
    store,
    taskQueue,
    metrics: apiMetrics(registry),
    registry,
    logger: createLogger('herald-api-test', process.env.HERALD_TEST_API_LOG ?? 'silent'),
    adminKey,
    allowPrivateTargets,
    secretBox: createSecretBox(encryptionKey),
    ingestRate: options.ingestRate ?? 1_000_000,
    maxSubscriptionsPerTenant: options.maxSubscriptionsPerTenant ?? 100_000,
    ...(options.rejectionAlertIntervalMs && { rejectionAlertIntervalMs: options.rejectionAlertIntervalMs }),
    temporalUiUrl: shared.temporalUiUrl,
    temporalNamespace: 'default',
    portalDir: path.join(ROOT, 'dist/portal'),
    traced: tracing !== undefined,
    afterAnswer: createAfterAnswer(),
  };
  const app = createApp(appDeps);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const stack: TestStack = {
    url,
    adminKey,
    appDeps,
    store,
    temporal,
    connection: temporal.connection as Connection,
    taskQueue,
    workerEnv,
    worker,
    tracing,
    async request(method, route, body, headers = {}) {
      const res = await fetch(`${url}${route}`, {
        method,
        headers: {
          authorization: `Bearer ${adminKey}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      // JSON answers parsed; anything else (metrics, an NDJSON export) kept as text, empty as null.
      const isJson = /\bjson\b/.test(res.headers.get('content-type') ?? '');
      const parsed: unknown = !text ? null : isJson ? JSON.parse(text) : text;
      return { status: res.status, headers: res.headers, body: parsed as never };
    },
    async stop() {
      await stack.worker.kill('SIGTERM');
      await new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await appDeps.afterAnswer.drain();
      await temporal.connection.close();
      await store.db.dropDatabase().catch(() => undefined);
      await store.client.close();
      await tracing?.shutdown();
    },
  };
  return stack;
}

type Checked<T> = T | undefined | false;

/** Polls until `check` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Checked<T> | Promise<Checked<T>>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
}

/**
 * The usual test file: one stack and one loopback receiver, started before its tests and
 * stopped after them. Read them as `env.stack` and `env.receiver` inside tests.
 */
export function useStack(options: StackOptions = {}): { readonly stack: TestStack; readonly receiver: Receiver } {
  const env = {} as { stack: TestStack; receiver: Receiver };
  beforeAll(async () => {
    [env.stack, env.receiver] = await Promise.all([startStack(options), startReceiver()]);
  });
  afterAll(async () => {
    await env.stack?.stop();
    await env.receiver?.close();
  });
  return env;
}
