import { temporal } from '@temporalio/proto';
import type { applyRetention } from '../../src/workflows/apply-retention';
import type { collectDigest } from '../../src/workflows/collect-digest';
import { digestQuery, digestSignal, type DigestEntry, type StartEventsInput } from '../../src/workflows/definitions';
import type { startEvents } from '../../src/workflows/start-events';
import { COLLECT_DIGEST_WORKFLOW } from '../../src/temporal/names';
import { startWorkflowEnv, type WorkflowEnv } from './workflow-env';

/**
 * The long-lived workflows beside `deliverEvent`, each on a task queue of its own with
 * in-memory activities: `applyRetention` keeps each run's history bounded however large the
 * backlog, `collectDigest` holds and sends each entry once, and `startEvents` hands a batch
 * to its activities a slice at a time. Each digest it sends starts a
 * `deliverEvent` child, which here finds its event recorded already and ends at once.
 */

let env: WorkflowEnv;
beforeAll(async () => {
  env = await startWorkflowEnv();
}, 120_000);
afterAll(() => env?.stop());

test('a batch accepted to start later starts its events 100 to an activity, in order, and sums what each started', async () => {
  const slices: string[][] = [];
  const taskQueue = 'start-events-tests';
  await env.startWorker(taskQueue, {
    activities: {
      // Every fifth id was used before.
      startEventWorkflows: ({ events }: StartEventsInput) => {
        slices.push(events.map((e) => e.id));
        const duplicates = events.filter((e) => Number(e.id.slice(2)) % 5 === 0).length;
        return Promise.resolve({ started: events.length - duplicates, duplicates });
      },
    },
  });
  const events = Array.from({ length: 250 }, (_, i) => ({
    id: `e-${i}`,
    type: 'a.b',
    data: {},
    occurredAt: '2026-01-01T00:00:00.000Z',
    receivedAt: '2026-01-01T00:00:00.000Z',
  }));
  const result = await env.client.workflow.execute<typeof startEvents>('startEvents', {
    workflowId: `start-events-${Date.now()}`,
    taskQueue,
    args: [{ tenant: 't', events, subscriptionsVersion: 3 }],
  });
  expect(result).toEqual({ started: 200, duplicates: 50 });
  expect(slices.map((s) => s.length)).toEqual([100, 100, 50]);
  expect(slices.flat()).toEqual(events.map((e) => e.id));
});

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
  // Visibility is eventually consistent: the last run may be counted a moment after its result.
  const runs = () => env.client.workflow.count(`WorkflowId = '${handle.workflowId}'`).then((r) => r.count);
  for (const deadline = Date.now() + 10_000; (await runs()) < 4 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 100));
  expect(await runs()).toBe(4);
});

test("an entry fed again by its run's retry is not sent twice, however many digests went out since; a replay's is sent again", async () => {
  const taskQueue = 'digest-tests';
  await env.startWorker(taskQueue, { activities: { openEvent: () => Promise.resolve('duplicate') } });
  const handle = await env.client.workflow.start<typeof collectDigest>(COLLECT_DIGEST_WORKFLOW, {
    workflowId: `digest-${Date.now()}`,
    taskQueue,
    args: [{ tenant: 't1', subscriptionId: 'sub_d' }],
  });
  const digestsSent = async () => (await handle.query(digestQuery)).sequence;
  /** Feeds an entry (a digest of one: maxEvents 1) and waits until the workflow has taken it in. */
  const feed = async (eventId: string, workflowId: string, expected: number) => {
    const entry: DigestEntry = { eventId, workflowId, every: '1h', maxEvents: 1 };
    await handle.signal(digestSignal, entry);
    const deadline = Date.now() + 15_000;
    while ((await digestsSent()) !== expected) {
      if (Date.now() > deadline)
        throw new Error(`expected ${expected} digests after ${eventId} from ${workflowId}, saw ${await digestsSent()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await feed('e', 'event/t1/e', 1);
  await feed('f', 'event/t1/f', 2);
  await feed('g', 'event/t1/g', 3);
  await feed('e', 'event/t1/e', 3); // the first run's feed, retried
  await new Promise((r) => setTimeout(r, 500)); // a fourth digest would be sent by now
  expect(await digestsSent()).toBe(3);
  await feed('e', 'event/t1/e/replay/1', 4); // a replay of e collects it again
  await feed('g', 'event/t1/g/replay/1', 5); // also of the event the last digest held
});
