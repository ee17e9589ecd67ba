import { writeFileSync } from 'node:fs';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Agent } from 'undici';
import { createFloorActivities } from './activities';
import { FLOOR_TASK_QUEUE } from './workflows';

/**
 * The floor's worker process, started by `make bench` for its floor scenarios only. Env:
 * TEMPORAL_ADDRESS, FLOOR_SIGNING_SECRET (the bench subscriptions' secret) and
 * FLOOR_READY_FILE (written once the worker polls, so the bench does not time its webpack
 * bundling).
 */
async function main() {
  const address = required('TEMPORAL_ADDRESS');
  const secret = required('FLOOR_SIGNING_SECRET');
  const readyFile = required('FLOOR_READY_FILE');
  const connection = await NativeConnection.connect({ address });
  // Herald's dispatcher (src/activities/http-sender.ts): 64 keep-alive connections, kept 30 s.
  const dispatcher = new Agent({ connections: 64, keepAliveTimeout: 30_000 });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: FLOOR_TASK_QUEUE,
    workflowsPath: require.resolve('./workflows'),
    activities: createFloorActivities({ dispatcher, secret }),
    // The slots and cache Herald's worker runs with (src/worker.ts), so the floor gets no more
    // concurrency than Herald has: it leaves local activity and workflow task slots at the
    // SDK's defaults (100 and 40) and caches HERALD_MAX_CACHED_WORKFLOWS' default of 500
    // workflows. (Its 50 activity task slots are for remote activities, which the floor has none of.)
    maxConcurrentLocalActivityExecutions: 100,
    maxConcurrentWorkflowTaskExecutions: 40,
    maxCachedWorkflows: 500,
    // As Herald's worker by default (HERALD_WORKFLOW_DEADLOCK_TIMEOUT_MS): no watchdog thread per sandbox call.
    isolateExecutionTimeout: 0,
    // As Herald's worker by default (HERALD_WORKFLOW_STACK_TRACES): no stack captured per workflow promise.
    workflowStackTraces: false,
  });
  writeFileSync(readyFile, new Date().toISOString());
  await worker.run(); // resolves after SIGINT/SIGTERM
  await Promise.allSettled([connection.close(), dispatcher.close()]);
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
