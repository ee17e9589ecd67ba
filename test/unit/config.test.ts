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
