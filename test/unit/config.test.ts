import { loadConfig } from '../../src/config';

/** The worker's settings as the environment gives them (src/worker.ts passes them to the SDK). */
const workerConfig = (env: NodeJS.ProcessEnv) => loadConfig({ HERALD_DATA_DIR: '/nonexistent-herald-data', ...env });

test('workflow stack traces are off unless HERALD_WORKFLOW_STACK_TRACES turns them on', () => {
  expect(workerConfig({}).workflowStackTraces).toBe(false);
  expect(workerConfig({ HERALD_WORKFLOW_STACK_TRACES: '1' }).workflowStackTraces).toBe(true);
  expect(workerConfig({ HERALD_WORKFLOW_STACK_TRACES: 'off' }).workflowStackTraces).toBe(false);
});
