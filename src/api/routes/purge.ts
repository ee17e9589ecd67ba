import { setTimeout } from 'node:timers/promises';
import { Router } from 'express';
import { mapConcurrent } from '../../concurrency';
import { newUlid } from '../../domain/ids';
import { purgeSchema, type EventFilterQuery, type PurgeInput } from '../../domain/schemas';
import { claimsInFlight } from '../../store/deliveries';
import {
  deleteEventsWithAudit,
  findEvent,
  markPurging,
  purgeBatch,
  reopenParentsClosedBy,
  PURGED_EVENT_TYPE,
  type PurgedEvent,
} from '../../store/events';
import { isNotFound } from '../../temporal/client';
import { terminateIfRunning } from '../../temporal/deliver-event-client';
import { completedBatches, runningBatches } from '../../temporal/event-batches';
import { replayWorkflowId } from '../../temporal/names';
import { announce } from '../announce';
import { principalOf, requireScope, type Principal } from '../auth';
import { batchesClosed } from '../batch-waits';
import type { IngestDeps } from '../ingest';
import { limitsOf, visibleTo } from '../key-limits';
import { checkIdParam, parseOrThrow, ProblemError } from '../problem';
import { callTemporal, unavailable } from '../temporal-call';
import { ownEvent } from '../../domain/own-events';

/** Events removed per round: one query selects them, three delete them with their audit. */
const BATCH = 200;
const IN_FLIGHT_POLL_MS = 100;
/** How long a purge waits for the tenant's batches still starting their events. */
const BATCH_WAIT_MS = 30_000;

/**
 * Purge: removes events that should not be there (wrong data, a test run in production),
 * with their deliveries and attempts. Their sends are fenced and their workflows terminated
 * first, so nothing is sent after the answer. Each purge leaves a `herald.events.purged` event, which no purge removes.
 */
export function purgeRouter(deps: IngestDeps): Router {
  const router = Router();
  router.param('id', checkIdParam('event'));

  /**
   * Stops and removes the workflows of these events and of their replays, so that no attempt
   * starts after the purge answers. Which of them still run is Temporal's to say, not the
   * audit's, whose statuses trail the workflows: each one is terminated, which Temporal answers
   * once the execution is closed. A terminate does not reach the worker, though: the local
   * activities of the run's last workflow task go on there, and retry, until that task ends.
   * So the events are marked first, which every attempt checks after it claims its delivery,
   * and the purge waits for the attempts that claimed one before the mark
   * to record their outcome. Then each execution is deleted, since its history holds the event too.
   */
  async function removeWorkflows(tenant: string, events: PurgedEvent[], by: string, batchesDone: Set<string>): Promise<void> {
    const ids = events.map((e) => e.id);
    await markPurging(deps.store, tenant, ids);
    const workflowIds = events.flatMap((e) => [
      e.workflowId,
      ...Array.from({ length: e.replays ?? 0 }, (_, i) => replayWorkflowId(tenant, e.id, i + 1)),
    ]);
    await mapConcurrent(workflowIds, 16, (workflowId) =>
      callTemporal(deps.connection, () => terminateIfRunning(deps.temporal, workflowId, `purged by ${by}`)),
    );
    await waitForSendsInFlight(tenant, ids);
    await mapConcurrent(workflowIds, 16, (workflowId) => deleteExecution(workflowId));
    await deleteBatches(events, batchesDone);
  }

  /**
   * The batches (`Prefer: respond-async`) that started these events: their histories hold the
   * events too. Only a completed one is deleted: deleting a run terminates it first, and one open
   * may still be starting others' events (one accepted while this purge ran is waited for), one
   * terminated or failed part way holds the only copy of those it never started. Those are kept
   * until Temporal's retention and logged. A run dealt with (`done`) is not looked at again in
   * the purge's later rounds, where its other events come up.
   */
  async function deleteBatches(events: PurgedEvent[], done: Set<string>): Promise<void> {
    const runs = [
      ...new Map(events.flatMap((e) => (e.batch && !done.has(e.batch.runId) ? [[e.batch.runId, e.batch] as const] : []))).values(),
    ];
    if (runs.length === 0) return;
    await batchesClosed(deps, runs, BATCH_WAIT_MS);
    const completed = await callTemporal(deps.connection, () => completedBatches(deps.temporal, runs));
    const keptNow = runs.filter((run) => !completed.some((c) => c.runId === run.runId));
    if (keptNow.length > 0) {
      deps.logger.warn({ batches: keptNow }, 'batches open or not completed after the purge waited: their histories are kept');
    }
    await mapConcurrent(completed, 16, (run) => deleteExecution(run.workflowId, run.runId));
    for (const run of runs) done.add(run.runId);
  }

  /**
   * Waits until no attempt of these events is between its claim and its record. A claim that
   * lapsed is a worker that died in the attempt, or an opened delivery never attempted: neither
   * sends anything more.
   */
  async function waitForSendsInFlight(tenant: string, ids: string[]): Promise<void> {
    for (;;) {
      if ((await claimsInFlight(deps.store, tenant, ids, new Date())) === 0) return;
      await setTimeout(IN_FLIGHT_POLL_MS);
    }
  }

  /**
   * Asks Temporal to delete the closed execution. Temporal removes the history in the
   * background, some seconds later (about 20 s on the dev server), so the purge does not wait
   * for it: the terminate above is what stops the sending.
   */
  async function deleteExecution(workflowId: string, runId?: string): Promise<void> {
    const { namespace } = deps.temporal.options;
    try {
      await callTemporal(deps.connection, () =>
        deps.temporal.workflowService.deleteWorkflowExecution({ namespace, workflowExecution: { workflowId, runId } }),
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * A batch accepted with `Prefer: respond-async` holds events the audit does not have yet, so
   * the purge waits for the tenant's batches still starting: then each of their events has a
   * workflow of its own, as an event accepted without a batch has once answered (one whose
   * workflow has not recorded it yet is no more found by the filter than such an event is).
   */
  async function awaitBatchesStarting(tenant: string): Promise<void> {
    const starting = await callTemporal(deps.connection, () => runningBatches(deps.temporal, tenant));
    if (!(await batchesClosed(deps, starting, BATCH_WAIT_MS))) {
      throw unavailable(
        `Batches of this tenant accepted with Prefer: respond-async are still starting their events after ${BATCH_WAIT_MS / 1000} s; nothing was purged, run the same purge again.`,
      );
    }
  }

  async function purge(principal: Principal, select: (limit: number) => ReturnType<typeof purgeBatch>): Promise<number> {
    const by = `key:${principal.keyId}`;
    await awaitBatchesStarting(principal.tenant);
    /** Batch runs this purge has deleted or kept (`deleteBatches`). */
    const batchesDone = new Set<string>();
    let purged = 0;
    for (;;) {
      const batch = await select(BATCH);
      if (batch.length === 0) return purged;
      try {
        await removeWorkflows(principal.tenant, batch, by, batchesDone);
      } catch (err) {
        // Temporal went away part way: some workflows of this batch may be stopped already.
        if (err instanceof ProblemError && err.status === 503) {
          throw unavailable(
            `Temporal is unavailable; the purge stopped part way (${purged} events removed, the rest still in the audit, some of their workflows stopped). Run the same purge again to finish it.`,
          );
        }
        throw err;
      }
      const ids = batch.map((e) => e.id);
      await reopenParentsClosedBy(deps.store, principal.tenant, batch);
      purged += await deleteEventsWithAudit(deps.store, principal.tenant, ids);
      if (batch.length < BATCH) return purged;
    }
  }

  async function record(principal: Principal, filter: Record<string, unknown>, count: number): Promise<string> {
    const id = `herald:purge:${newUlid()}`;
    await announce(
      deps,
      principal.tenant,
      ownEvent({
        id,
        type: PURGED_EVENT_TYPE,
        data: { filter, count, by: `key:${principal.keyId}` },
        actor: `key:${principal.keyId}`,
        occurredAt: new Date(),
      }),
    );
    return id;
  }

  router.delete('/:id', requireScope('events:purge'), async (req, res) => {
    const principal = principalOf(res);
    const id = String(req.params.id);
    const doc = visibleTo(res, await findEvent(deps.store, principal.tenant, id), id);
    if (doc.type === PURGED_EVENT_TYPE) throw new ProblemError(409, 'Conflict', 'The record of a purge cannot be purged.');
    const purged = await purge(principal, async () => ((await findEvent(deps.store, principal.tenant, id)) ? [doc] : []));
    const recordId = await record(principal, { id }, purged);
    res.json({ purged, recordId });
  });

  router.post('/purge', requireScope('events:purge'), async (req, res) => {
    const principal = principalOf(res);
    const input: PurgeInput = parseOrThrow(purgeSchema, req.body);
    const filter: EventFilterQuery = input;
    const purged = await purge(principal, (limit) => purgeBatch(deps.store, principal.tenant, filter, limit, limitsOf(res)));
    const recordId = await record(principal, input, purged);
    res.json({ purged, recordId });
  });

  return router;
}
