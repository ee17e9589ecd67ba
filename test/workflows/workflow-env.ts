import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { startTemporal, type TemporalServer } from '../harness/servers';
import { FakeAudit } from './fake-audit';

/**
 * The project's Temporal dev server and one SDK worker running Herald's workflow sources
 * against the in-memory activities of `FakeAudit`: workflow behaviour in seconds, without
 * the store, the API or HTTP.
 */
export interface WorkflowEnv {
  client: Client;
  audit: FakeAudit;
  taskQueue: string;
  /** Starts another worker of the same workflows and activities on `taskQueue`; returns a function that stops it before `stop` does. */
  startWorker: (taskQueue: string, options?: Partial<WorkerOptions>) => Promise<() => Promise<void>>;
  stop: () => Promise<void>;
}

let runtimeInstalled = false;

/** The SDK logs warnings only: a test that fails says why itself, and its info lines drown it. */
export function quietSdkLogs(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  runtimeInstalled = true;
}

export async function startWorkflowEnv(workflowsPath = require.resolve('../../src/workflows')): Promise<WorkflowEnv> {
  quietSdkLogs();
  const server: TemporalServer = await startTemporal();
  const audit = new FakeAudit();
  const taskQueue = 'workflow-tests';
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  // Bundled once: a test that needs a worker set up otherwise starts it from the same code.
  const workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  const stops: (() => Promise<void>)[] = [];
  const startWorker = async (queue: string, options: Partial<WorkerOptions> = {}) => {
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue: queue,
      workflowBundle,
      activities: audit.activities(),
      // Herald's worker defaults (src/worker.ts): Node's vm rejects a 0 timeout unless patches/ was
      // applied, and the patch's option leaves the stack traces out.
      isolateExecutionTimeout: 0,
      workflowStackTraces: false,
      ...options,
    });
    const running = worker.run();
    let stopping: Promise<void> | undefined;
    const stop = () => {
      if (!stopping) {
        worker.shutdown();
        stopping = running;
      }
      return stopping;
    };
    stops.push(stop);
    return stop;
  };
  await startWorker(taskQueue);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  return {
    client,
    audit,
    taskQueue,
    startWorker,
    stop: async () => {
      await Promise.all(stops.map((stop) => stop()));
      await Promise.all([connection.close(), nativeConnection.close()]);
      server.process.kill('SIGKILL');
    },
  };
}
