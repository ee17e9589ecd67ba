import pino from 'pino';

/** Structured JSON logs; secrets and keys are redacted wherever they could appear. */
export function createLogger(name: string, level = process.env.HERALD_LOG_LEVEL ?? 'info') {
  return pino({
    name,
    level,
    redact: ['req.headers.authorization', '*.secret', '*.secrets', 'secret', 'key'],
  });
}

export type Logger = ReturnType<typeof createLogger>;
