import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from './domain/schedule';
import { parseEncryptionKey } from './security/secret-box';

/**
 * The subscriptions a tenant may hold unless HERALD_MAX_SUBSCRIPTIONS says otherwise; it also
 * bounds one event's fan-out, which is what the default is for. An event's run carries every
 * matched delivery through Temporal (its opening's result, the deliveries a continued run
 * loads, the run's result and its `status` query), up to about 1 KB each with the longest
 * tenant and event ids and errors (`trackedView`), and Temporal refuses a payload over 2 MB:
 * past ~2,500 matched subscriptions the run's workflow task is refused and Temporal ends the
 * run (3,000 on the production-shaped stack: its opening's result was 2.4 MB; three runs sent
 * 2,855, 3,000 and 2,650 deliveries, the last ended TERMINATED with the event still
 * `delivering`; bench/fanout-limit.ts, 2026-12-06). 1,000 keeps every payload under three
 * quarters of the limit (test/workflows); each event-wide retry or cancel adds ~0.1 KB a delivery.
 */
export const DEFAULT_MAX_SUBSCRIPTIONS = 1_000;

/** Every setting Herald reads from its environment, validated once at start-up. */
const envSchema = z.object({
  HERALD_HOST: z.string().default('127.0.0.1'),
  HERALD_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HERALD_DATA_DIR: z.string().default('.herald'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  HERALD_TASK_QUEUE: z.string().default('herald'),
  MONGO_URL: z.string().default('mongodb://127.0.0.1:27017/herald'),
  // Any key: the contract sets no format (the API warns below 16 characters).
  HERALD_ADMIN_KEY: z.string().optional(),
  HERALD_ENCRYPTION_KEY: z.string().optional(),
  HERALD_INGEST_RATE: z.coerce.number().positive().default(1000),
  HERALD_MAX_SUBSCRIPTIONS: z.coerce.number().int().positive().default(DEFAULT_MAX_SUBSCRIPTIONS),
  HERALD_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(500),
  HERALD_WORKFLOW_DEADLOCK_TIMEOUT_MS: z.coerce.number().int().min(0).max(4_294_967_295).default(0), // Node's vm timeout is 32-bit
  HERALD_WORKFLOW_STACK_TRACES: z.string().optional(),
  HERALD_SUBSCRIPTION_CONCURRENCY: z.coerce.number().int().positive().default(10),
  HERALD_MAX_PENDING_STARTS: z.coerce.number().int().positive().default(500),
  HERALD_ALLOW_PRIVATE_TARGETS: z.string().optional(),
  HERALD_SMTP_URL: z
    .string()
    .optional()
    // Its message never repeats the value: the URL may hold the SMTP password.
    .refine((url) => url === undefined || isSmtpUrl(url), {
      message: 'must be an smtp:// or smtps:// URL with a host, e.g. smtp://127.0.0.1:2525',
    }),
  HERALD_SMTP_FROM: z
    .string()
    .default('Herald <herald@localhost>')
    .refine((from) => from.includes('@'), { message: 'must hold an address, e.g. "Herald <herald@example.com>"' }),
  HERALD_RETENTION_DAYS: z.coerce.number().positive().default(365),
  HERALD_INGEST_LOG_DAYS: z.coerce.number().positive().default(14),
  HERALD_DISABLE_AFTER: z.string().default('5d'),
  HERALD_WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  HERALD_WORKFLOW_BUNDLE: z.string().optional(),
  HERALD_LOG_LEVEL: z.string().default('info'),
  HERALD_TEMPORAL_UI_URL: z.url().default('http://127.0.0.1:8233'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.union([z.literal(''), z.url()]).optional(),
});

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
  mongoUrl: string;
  adminKey: string | undefined;
  /** Seals secrets at rest; the API and the worker refuse to start without it. */
  encryptionKey: Buffer | undefined;
  /** Events per second each API key may ingest (a burst of twice that is allowed). */
  ingestRate: number;
  maxSubscriptionsPerTenant: number;
  /** Workflows a worker keeps in memory between tasks (Temporal's sticky cache). */
  maxCachedWorkflows: number;
  /**
   * How long one step of a workflow's code may run before the SDK fails it as a potential
   * deadlock; 0 turns the check off (see src/worker.ts).
   */
  workflowDeadlockTimeoutMs: number;
  /** Whether the worker collects workflow stack traces for Temporal's stack trace query (see src/worker.ts). */
  workflowStackTraces: boolean;
  /** Requests in flight to one subscription per worker process. */
  subscriptionConcurrency: number;
  /** Events one API process starts at once before it answers 503 (load shedding). */
  maxPendingStarts: number;
  allowPrivateTargets: boolean;
  smtpUrl: string | undefined;
  /** The From of every email Herald sends; its domain also names the Message-IDs. */
  smtpFrom: string;
  retentionDays: number;
  /** How long refused ingestion requests stay in the ingestion log. */
  ingestLogDays: number;
  disableAfterMs: number;
  workerMetricsPort: number;
  workflowBundle: string | undefined;
  logLevel: string;
  /** Where people open the Temporal Web UI; the portal links each event to its workflow there. */
  temporalUiUrl: string;
  /** The OTLP/HTTP collector traces are exported to; tracing is off when unset. */
  otlpEndpoint: string | undefined;
}

const ON = ['1', 'true', 'on', 'yes'];
const OFF = ['0', 'false', 'off', 'no'];

/** A switch: unset is off; a word it does not know stops the start ('0 ' was taken as on, turning the private-target guard off). */
function flag(name: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  const word = value.trim().toLowerCase();
  if (ON.includes(word)) return true;
  if (OFF.includes(word)) return false;
  throw new Error(`${name} must be one of ${[...ON, ...OFF].join(', ')}, not ${JSON.stringify(value)}`);
}

function isSmtpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === 'smtp:' || url.protocol === 'smtps:') && url.hostname !== '';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // A variable set to nothing (`HERALD_HOST: ${HERALD_HOST}` in a compose file, the variable
  // unset) counts as unset: as given, HERALD_HOST= would listen on every interface and
  // HERALD_PORT= on a random port.
  const e = envSchema.parse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== '')));
  return {
    host: e.HERALD_HOST,
    port: e.HERALD_PORT,
    dataDir: e.HERALD_DATA_DIR,
    temporalAddress: e.TEMPORAL_ADDRESS,
    temporalNamespace: e.TEMPORAL_NAMESPACE,
    taskQueue: e.HERALD_TASK_QUEUE,
    mongoUrl: e.MONGO_URL,
    adminKey: e.HERALD_ADMIN_KEY ?? readDataFile(e.HERALD_DATA_DIR, 'admin-key'),
    encryptionKey: optionalKey(e.HERALD_ENCRYPTION_KEY ?? readDataFile(e.HERALD_DATA_DIR, 'encryption-key')),
    ingestRate: e.HERALD_INGEST_RATE,
    maxSubscriptionsPerTenant: e.HERALD_MAX_SUBSCRIPTIONS,
    maxPendingStarts: e.HERALD_MAX_PENDING_STARTS,
    subscriptionConcurrency: e.HERALD_SUBSCRIPTION_CONCURRENCY,
    maxCachedWorkflows: e.HERALD_MAX_CACHED_WORKFLOWS,
    workflowDeadlockTimeoutMs: e.HERALD_WORKFLOW_DEADLOCK_TIMEOUT_MS,
    workflowStackTraces: flag('HERALD_WORKFLOW_STACK_TRACES', e.HERALD_WORKFLOW_STACK_TRACES),
    allowPrivateTargets: flag('HERALD_ALLOW_PRIVATE_TARGETS', e.HERALD_ALLOW_PRIVATE_TARGETS),
    smtpUrl: e.HERALD_SMTP_URL || undefined,
    smtpFrom: e.HERALD_SMTP_FROM,
    retentionDays: e.HERALD_RETENTION_DAYS,
    ingestLogDays: e.HERALD_INGEST_LOG_DAYS,
    disableAfterMs: parseDuration(e.HERALD_DISABLE_AFTER),
    workerMetricsPort: e.HERALD_WORKER_METRICS_PORT,
    workflowBundle: e.HERALD_WORKFLOW_BUNDLE,
    logLevel: e.HERALD_LOG_LEVEL,
    temporalUiUrl: e.HERALD_TEMPORAL_UI_URL.replace(/\/+$/, ''),
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
  };
}

function optionalKey(text: string | undefined): Buffer | undefined {
  return text ? parseEncryptionKey(text) : undefined;
}

/** `make dev` writes the generated keys here, so `npm run api` finds them without extra setup. */
function readDataFile(dataDir: string, name: string): string | undefined {
  try {
    return readFileSync(path.join(dataDir, name), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
