import { loadConfig } from '../../src/config';

/** The worker's settings as the environment gives them (src/worker.ts passes them to the SDK). */
const workerConfig = (env: NodeJS.ProcessEnv) => loadConfig({ HERALD_DATA_DIR: '/nonexistent-herald-data', ...env });

test('workflow stack traces are off unless HERALD_WORKFLOW_STACK_TRACES turns them on', () => {
  expect(workerConfig({}).workflowStackTraces).toBe(false);
  expect(workerConfig({ HERALD_WORKFLOW_STACK_TRACES: '1' }).workflowStackTraces).toBe(true);
  expect(workerConfig({ HERALD_WORKFLOW_STACK_TRACES: 'off' }).workflowStackTraces).toBe(false);
});

test('a variable set to nothing counts as unset: the default applies, not an empty host, port 0 or an empty task queue', () => {
  const defaults = workerConfig({});
  const blank = workerConfig({
    HERALD_HOST: '',
    HERALD_PORT: '',
    HERALD_TASK_QUEUE: '  ',
    TEMPORAL_NAMESPACE: '',
    HERALD_WORKER_METRICS_PORT: '',
  });
  expect([blank.host, blank.port, blank.taskQueue, blank.temporalNamespace, blank.workerMetricsPort]).toEqual([
    defaults.host,
    defaults.port,
    defaults.taskQueue,
    defaults.temporalNamespace,
    defaults.workerMetricsPort,
  ]);
  expect(defaults.host).toBe('127.0.0.1');
});

test('a switch takes the words it knows, around spaces too, and refuses others at start', () => {
  expect(workerConfig({ HERALD_ALLOW_PRIVATE_TARGETS: '0 ' }).allowPrivateTargets).toBe(false);
  expect(workerConfig({ HERALD_ALLOW_PRIVATE_TARGETS: ' Yes' }).allowPrivateTargets).toBe(true);
  expect(() => workerConfig({ HERALD_ALLOW_PRIVATE_TARGETS: 'maybe' })).toThrow(
    /HERALD_ALLOW_PRIVATE_TARGETS must be one of 1, true, on, yes, 0, false, off, no/,
  );
});

test('an SMTP URL without scheme or host, or a From without an address, stops the start, without printing the password', () => {
  const refusal = (env: NodeJS.ProcessEnv): string => {
    try {
      workerConfig(env);
    } catch (err) {
      return (err as Error).message;
    }
    return 'started';
  };
  for (const url of ['smtp.example.com:587', 'smtp://user:secret@host:70000', 'http://user:secret@example.com']) {
    const message = refusal({ HERALD_SMTP_URL: url });
    expect(message).toMatch(/must be an smtp:\/\/ or smtps:\/\/ URL with a host/);
    expect(message).not.toContain('secret');
  }
  expect(workerConfig({ HERALD_SMTP_URL: 'smtps://user:secret@127.0.0.1:465' }).smtpUrl).toBe('smtps://user:secret@127.0.0.1:465');
  expect(() => workerConfig({ HERALD_SMTP_FROM: 'herald' })).toThrow(/must hold an address/);
});

test('the admin key may be any non-empty text, as the contract sets no format', () => {
  expect(workerConfig({ HERALD_ADMIN_KEY: 'short' }).adminKey).toBe('short');
});
