import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from './domain/schedule';

/** Every setting Herald reads from its environment, validated once at start-up. */
const envSchema = z.object({
  HERALD_HOST: z.string().default('127.0.0.1'),
  HERALD_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HERALD_DATA_DIR: z.string().default('.herald'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  HERALD_TASK_QUEUE: z.string().default('herald'),
  MONGO_URL: z.string().default('mongodb://127.0.0.1:27017/herald'),
  HERALD_ADMIN_KEY: z.string().min(16).optional(),
  HERALD_ALLOW_PRIVATE_TARGETS: z.string().optional(),
  HERALD_SMTP_URL: z.string().optional(),
  HERALD_RETENTION_DAYS: z.coerce.number().positive().default(365),
  HERALD_DISABLE_AFTER: z.string().default('5d'),
  HERALD_WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  HERALD_WORKFLOW_BUNDLE: z.string().optional(),
  HERALD_LOG_LEVEL: z.string().default('info'),
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
  allowPrivateTargets: boolean;
  smtpUrl: string | undefined;
  retentionDays: number;
  disableAfterMs: number;
  workerMetricsPort: number;
  workflowBundle: string | undefined;
  logLevel: string;
}

function flag(value: string | undefined): boolean {
  return value !== undefined && !['', '0', 'false', 'off', 'no'].includes(value.toLowerCase());
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = envSchema.parse(env);
  return {
    host: e.HERALD_HOST,
    port: e.HERALD_PORT,
    dataDir: e.HERALD_DATA_DIR,
    temporalAddress: e.TEMPORAL_ADDRESS,
    temporalNamespace: e.TEMPORAL_NAMESPACE,
    taskQueue: e.HERALD_TASK_QUEUE,
    mongoUrl: e.MONGO_URL,
    adminKey: e.HERALD_ADMIN_KEY ?? readAdminKeyFile(e.HERALD_DATA_DIR),
    allowPrivateTargets: flag(e.HERALD_ALLOW_PRIVATE_TARGETS),
    smtpUrl: e.HERALD_SMTP_URL || undefined,
    retentionDays: e.HERALD_RETENTION_DAYS,
    disableAfterMs: parseDuration(e.HERALD_DISABLE_AFTER),
    workerMetricsPort: e.HERALD_WORKER_METRICS_PORT,
    workflowBundle: e.HERALD_WORKFLOW_BUNDLE,
    logLevel: e.HERALD_LOG_LEVEL,
  };
}

/** `make dev` writes the generated admin key here, so `npm run api` finds it without extra setup. */
function readAdminKeyFile(dataDir: string): string | undefined {
  try {
    return readFileSync(path.join(dataDir, 'admin-key'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
