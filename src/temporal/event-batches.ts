import { randomInt } from 'node:crypto';
import { defaultPayloadConverter, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { HeraldEvent } from '../domain/schemas';
import type { StartEventsInput } from '../workflows/definitions';
import type { startEvents } from '../workflows/start-events';
import { eventBatchWorkflowId, START_EVENTS_WORKFLOW } from './names';
import { HeraldTenant } from './search-attributes';

/**
 * A tenant's batches accepted with `Prefer: respond-async` (`startEvents`) while they start
 * their events' workflows. Each takes one of a fixed set of workflow ids, its slots, so that
 * Temporal itself bounds how many a tenant has starting (a slot's id is refused while its run
 * is open), and so that every process finds them by id, strongly consistent, without a
 * visibility query: an accepted event no workflow of its own holds yet is in one of them.
 */
export const BATCH_SLOTS_PER_TENANT = 16;

const slotIds = (tenant: string) => Array.from({ length: BATCH_SLOTS_PER_TENANT }, (_, slot) => eventBatchWorkflowId(tenant, slot));

/** A batch's run: the slot's id and the run in it. */
export interface BatchRun {
  workflowId: string;
  runId: string;
}

/**
 * Starts the batch's workflow in the first free slot, tried from a random one so that callers
 * sending at once rarely meet; null when all the tenant's slots hold a batch still starting.
 */
export async function startEventBatch(client: Client, taskQueue: string, input: StartEventsInput): Promise<BatchRun | null> {
  const ids = slotIds(input.tenant);
  const first = randomInt(ids.length);
  for (let k = 0; k < ids.length; k++) {
    const workflowId = ids[(first + k) % ids.length];
    try {
      const handle = await client.workflow.start<typeof startEvents>(START_EVENTS_WORKFLOW, {
        workflowId,
        taskQueue,
        args: [input],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        typedSearchAttributes: [{ key: HeraldTenant, value: input.tenant }],
      });
      return { workflowId, runId: handle.firstExecutionRunId };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  return null;
}

/** The tenant's batches still starting their events. */
export async function runningBatches(client: Client, tenant: string): Promise<BatchRun[]> {
  const runs = await Promise.all(slotIds(tenant).map((workflowId) => openRun(client, workflowId)));
  return runs.filter((run): run is BatchRun => run !== null);
}

async function openRun(client: Client, workflowId: string, runId?: string): Promise<BatchRun | null> {
  try {
    const described = await client.workflow.getHandle(workflowId, runId).describe();
    return described.status.name === 'RUNNING' ? { workflowId, runId: described.runId } : null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/**
 * An accepted event that a batch still starting holds, read from the batch's input (the first
 * event of its history, from the server alone, so no worker needs to answer), with the batch;
 * null when none of the tenant's open batches holds this id.
 */
export async function heldEvent(client: Client, tenant: string, id: string): Promise<{ event: HeraldEvent; batch: BatchRun } | null> {
  for (const batch of await runningBatches(client, tenant)) {
    const { history } = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: batch,
      maximumPageSize: 1,
    });
    const payload = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (!payload) continue;
    const event = defaultPayloadConverter.fromPayload<StartEventsInput>(payload).events.find((e) => e.id === id);
    if (event) return { event, batch };
  }
  return null;
}

/** Those of these batches still open. */
export async function openBatches(client: Client, batches: BatchRun[]): Promise<BatchRun[]> {
  const runs = await Promise.all(batches.map((b) => openRun(client, b.workflowId, b.runId)));
  return runs.filter((run): run is BatchRun => run !== null);
}

/**
 * The tenant's closed batches whose history Temporal still keeps, with the events they held: the
 * closed runs visibility lists, and the last run of each slot, which it may not list yet.
 */
export async function closedBatches(client: Client, tenant: string): Promise<BatchRun[]> {
  const runs = new Map<string, BatchRun>();
  const query = `WorkflowType = '${START_EVENTS_WORKFLOW}' AND ${HeraldTenant.name} = '${tenant}' AND ExecutionStatus != 'Running'`;
  for await (const w of client.workflow.list({ query })) runs.set(w.runId, { workflowId: w.workflowId, runId: w.runId });
  for (const workflowId of slotIds(tenant)) {
    try {
      const described = await client.workflow.getHandle(workflowId).describe();
      if (described.status.name !== 'RUNNING') runs.set(described.runId, { workflowId, runId: described.runId });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  return [...runs.values()];
}
