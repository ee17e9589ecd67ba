import { randomInt } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { HeraldEvent } from '../domain/schemas';
import type { BatchRun, StartEventsInput } from '../workflows/definitions';
import type { startEvents } from '../workflows/start-events';
import { startInput } from './accepted-event';
import { isNotFound } from './client';
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

/**
 * Starts the batch's workflow in a free slot: the slots are looked at at once, and the free ones
 * tried from a random one, so that a start is rarely refused (each refusal is a round trip, and
 * under load a few of them would outlast the request's deadline) and callers sending at once
 * rarely meet. Null when all the tenant's slots hold a batch still starting.
 */
export async function startEventBatch(client: Client, taskQueue: string, input: StartEventsInput): Promise<BatchRun | null> {
  const busy = new Set((await runningBatches(client, input.tenant)).map((b) => b.workflowId));
  const ids = slotIds(input.tenant).filter((id) => !busy.has(id));
  const first = randomInt(Math.max(ids.length, 1));
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

/** A batch run as Temporal has it now (the slot's latest without `runId`), or null when it has none. */
async function describeRun(client: Client, workflowId: string, runId?: string): Promise<{ run: BatchRun; status: string } | null> {
  try {
    const described = await client.workflow.getHandle(workflowId, runId).describe();
    return { run: { workflowId, runId: described.runId }, status: described.status.name };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

async function openRun(client: Client, workflowId: string, runId?: string): Promise<BatchRun | null> {
  const described = await describeRun(client, workflowId, runId);
  return described?.status === 'RUNNING' ? described.run : null;
}

/** Batch runs' events by id, the oldest read dropped first: a run's input never changes, and reads of a run repeat. */
const heldByRun = new Map<string, Map<string, HeraldEvent>>();
const HELD_RUNS_KEPT = 2 * BATCH_SLOTS_PER_TENANT;

/** A batch run's events by id, from its input (the first event of its history, from the server alone). */
async function eventsOf(client: Client, batch: BatchRun): Promise<Map<string, HeraldEvent>> {
  const kept = heldByRun.get(batch.runId);
  if (kept) return kept;
  let input: StartEventsInput | null;
  try {
    input = await startInput<StartEventsInput>(client, batch);
  } catch (err) {
    // Deleted (purged) since it was seen running: it holds nothing any more.
    if (isNotFound(err)) return new Map();
    throw err;
  }
  if (!input) return new Map();
  const events = new Map(input.events.map((e) => [e.id, e]));
  heldByRun.set(batch.runId, events);
  if (heldByRun.size > HELD_RUNS_KEPT) heldByRun.delete(heldByRun.keys().next().value!);
  return events;
}

/**
 * An accepted event that a batch still starting holds, with the batch, read from the batches'
 * inputs, so no worker needs to answer; null when none of the tenant's open batches holds this id.
 */
export async function heldEvent(client: Client, tenant: string, id: string): Promise<{ event: HeraldEvent; batch: BatchRun } | null> {
  const running = await runningBatches(client, tenant);
  const held = await Promise.all(running.map(async (batch) => ({ batch, event: (await eventsOf(client, batch)).get(id) })));
  const found = held.find((h) => h.event !== undefined);
  return found ? { event: found.event!, batch: found.batch } : null;
}

/**
 * Those of these batches that completed: each started every event it held. One terminated or
 * failed part way may hold the only copy of events it never started.
 */
export async function completedBatches(client: Client, batches: BatchRun[]): Promise<BatchRun[]> {
  const described = await Promise.all(batches.map((b) => describeRun(client, b.workflowId, b.runId)));
  return described.flatMap((d) => (d?.status === 'COMPLETED' ? [d.run] : []));
}

/** Those of these batches still open. */
export async function openBatches(client: Client, batches: BatchRun[]): Promise<BatchRun[]> {
  const runs = await Promise.all(batches.map((b) => openRun(client, b.workflowId, b.runId)));
  return runs.filter((run): run is BatchRun => run !== null);
}
