import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { cancelSignal, retrySignal } from '../src/workflows/definitions';
import { DELIVER_EVENT_WORKFLOW } from '../src/temporal/names';
import { eventOf, gate, type Plan } from '../test/workflows/fake-audit';
import { historyToText } from '../test/workflows/history-file';
import { startWorkflowEnv, type WorkflowEnv } from '../test/workflows/workflow-env';

/**
 * Records `deliverEvent` histories for the replay test (test/workflows/replay.test.ts): a
 * few runs that take every path of the workflow, on the workflow sources given, with the
 * in-memory activities of the workflow tests. Run it on the sources of each released shape
 * of the workflow when a change to its commands lands, and commit what it writes:
 *
 *   npm run build
 *   node dist/scripts/record-workflow-histories.js <workflows source folder> test/workflows/histories/<shape> [revision]
 *
 * `revision` is the DELIVER_EVENT_REVISION the shape's starts carried (none before revisions).
 */

const [workflowsPath, outDir, revisionArg] = process.argv.slice(2);
if (!workflowsPath || !outDir) {
  console.error('usage: record-workflow-histories <workflows source folder> <output folder> [revision]');
  process.exit(2);
}
const revision = revisionArg === undefined ? undefined : Number(revisionArg);

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOUR = 3_600_000;

/** Each run: a name, a plan for the fake audit, and what is done to the workflow while it runs. */
const runs: { name: string; plan: Plan; historyLimit?: number; steer?: (h: WorkflowHandle, release: () => void) => Promise<void> }[] = [
  {
    // A 2 s and a 30 s receiver: local and remote attempts in every shape since local ones exist
    // (between 5 and 15 s the tier changed in 9c78c4e, see attemptTier).
    name: 'retry-signal-while-waiting',
    plan: {
      subscriptions: [
        { id: 'a', timeoutMs: 2_000 },
        { id: 'c', timeoutMs: 30_000 },
      ],
      attempt: (_, n) => (n === 1 ? { ok: false, retryDelayMs: HOUR } : { ok: true }),
    },
    steer: async (h) => {
      await wait(2_000);
      await h.signal(retrySignal, { requestedBy: 'key:recorder' });
    },
  },
  {
    name: 'cancel-during-attempt',
    plan: { subscriptions: [{ id: 'a', timeoutMs: 30_000 }], attempt: () => ({ hold: new Promise<never>(() => undefined) }) },
    steer: async (h) => {
      await wait(2_000);
      await h.signal(cancelSignal, { requestedBy: 'key:recorder' });
    },
  },
  {
    name: 'reopen-after-failure',
    plan: {
      subscriptions: [
        { id: 'failing', timeoutMs: 2_000 },
        { id: 'held', timeoutMs: 30_000 },
      ],
      attempt: (sub, n) => (sub === 'held' ? { hold: held.promise } : n === 1 ? { ok: false, retryDelayMs: null } : { ok: true }),
    },
    steer: async (h, release) => {
      await wait(2_000);
      await h.signal(retrySignal, { subscriptionId: 'failing', requestedBy: 'key:recorder' });
      await wait(2_000);
      release();
    },
  },
  {
    name: 'continue-as-new-with-carried-cancel',
    historyLimit: 1,
    plan: { subscriptions: [{ id: 'a', timeoutMs: 30_000 }], attempt: (_, n) => (n === 1 ? { hold: held.promise } : { ok: true }) },
    steer: async (h, release) => {
      await wait(2_000);
      await h.signal(cancelSignal, { requestedBy: 'key:recorder' });
      release();
    },
  },
  {
    name: 'workflow-cancelled',
    plan: { subscriptions: [{ id: 'a', timeoutMs: 2_000 }], attempt: () => ({ ok: false, retryDelayMs: HOUR }) },
    steer: async (h) => {
      await wait(2_000);
      await h.cancel();
    },
  },
];
/** Held attempts of the current run; released by its `steer`. */
let held = gate();

async function record(env: WorkflowEnv): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  for (const run of runs) {
    held = gate();
    const id = `replay-${run.name}`;
    env.audit.plan(id, run.plan);
    const handle = await env.client.workflow.start(DELIVER_EVENT_WORKFLOW, {
      workflowId: `wf-${id}`,
      taskQueue: env.taskQueue,
      args: [
        {
          tenant: 't1',
          event: eventOf(id),
          ...(revision !== undefined && { revision }),
          ...(run.historyLimit && { historyLimit: run.historyLimit }),
        },
      ],
    });
    await run.steer?.(handle, () => held.release({ ok: true }));
    await env.client.workflow
      .getHandle(handle.workflowId)
      .result()
      .catch(() => undefined); // a cancelled run ends in an error
    // Every run of the id: a continue-as-new chain is replayed run by run.
    let runId: string | undefined = handle.firstExecutionRunId;
    for (let i = 1; runId; i++) {
      const history = await env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
      writeFileSync(path.join(outDir, `${run.name}.${i}.json`), historyToText(history) + '\n');
      const last = history.events?.at(-1);
      runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    console.log(`recorded ${run.name}`);
  }
}

async function main(): Promise<void> {
  const env = await startWorkflowEnv(path.resolve(workflowsPath));
  try {
    await record(env);
  } finally {
    await env.stop();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
