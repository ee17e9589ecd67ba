import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
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
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowsPath,
    activities: audit.activities(),
    // Herald's worker default (src/worker.ts): Node's vm rejects a 0 timeout unless patches/ was applied.
    isolateExecutionTimeout: 0,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  return {
    client,
    audit,
    taskQueue,
    stop: async () => {
      worker.shutdown();
      await running;
      await Promise.all([connection.close(), nativeConnection.close()]);
      server.process.kill('SIGKILL');
    },
  };
}
