import { temporal } from '@temporalio/proto';
import type { applyRetention } from '../../src/workflows/apply-retention';
import { startWorkflowEnv, type WorkflowEnv } from './workflow-env';

/**
 * `applyRetention`'s own logic with its deletions in memory: however large the backlog, each
 * run's history stays bounded and the runs it continues into delete up to the same instants.
 */

let env: WorkflowEnv;
beforeAll(async () => {
  env = await startWorkflowEnv();
}, 120_000);
afterAll(() => env?.stop());

test('a backlog of the ingestion log continues as new as the events do, then the events are deleted', async () => {
  const logCalls: string[] = [];
  const eventCalls: string[] = [];
  const taskQueue = 'retention-tests';
  // 120 full batches of the log, then a last short one; 60 full batches of events, then none.
  await env.startWorker(taskQueue, {
    activities: {
      deleteExpiredIngestLog: ({ before }: { before: string }) => Promise.resolve(logCalls.push(before) <= 120 ? 1000 : 3),
      deleteExpiredEvents: ({ before }: { before: string }) => Promise.resolve(eventCalls.push(before) <= 60 ? 1000 : 0),
    },
  });
  const handle = await env.client.workflow.start<typeof applyRetention>('applyRetention', {
    workflowId: `retention-${Date.now()}`,
    taskQueue,
    args: [{ retentionDays: 30, ingestLogDays: 7 }],
  });
  const result = await env.client.workflow.getHandle(handle.workflowId).result();
  expect(result.deleted).toBe(60_000);
  expect(logCalls).toHaveLength(121);
  expect(new Set(logCalls).size).toBe(1);
  expect(eventCalls).toHaveLength(61);
  expect(new Set(eventCalls)).toEqual(new Set([result.before]));

  const first = await env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
  const last = first.events!.at(-1)!.eventType;
  expect(temporal.api.enums.v1.EventType[last!]).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
  // 50 log batches in each of the first two runs, the rest and 50 event batches in the third, the last 11 in the fourth.
  const runs = await env.client.workflow.count(`WorkflowId = '${handle.workflowId}'`);
  expect(runs.count).toBe(4);
});
