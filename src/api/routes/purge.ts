import { Router } from 'express';
import { ulid } from 'ulid';
import { mapConcurrent } from '../../concurrency';
import { purgeSchema, type EventFilterQuery, type PurgeInput } from '../../domain/schemas';
import { deleteEventsWithAudit, findEvent, purgeBatch, PURGED_EVENT_TYPE, type PurgedEvent } from '../../store/events';
import { terminateIfRunning } from '../../temporal/deliver-event-client';
import { replayWorkflowId } from '../../temporal/names';
import { announce } from '../announce';
import { principalOf, requireScope, type Principal } from '../auth';
import type { IngestDeps } from '../ingest';
import { checkIdParam, notFound, parseOrThrow, ProblemError } from '../problem';
import { callTemporal, unavailable } from '../temporal-call';

/** Events removed per round: one query selects them, three delete them with their audit. */
const BATCH = 200;
const GRPC_NOT_FOUND = 5;

/**
 * Purge: removes events that should not be there (wrong data, a test run in production),
 * with their deliveries and attempts. Their workflows are terminated first, so nothing is sent
 * after the answer. Each purge leaves a `herald.events.purged` event, which no purge removes.
 */
export function purgeRouter(deps: IngestDeps): Router {
  const router = Router();
  router.param('id', checkIdParam('event'));

  /**
   * Stops and removes the workflows of these events and of their replays. Which of them still
   * run is Temporal's to say, not the audit's, whose statuses trail the workflows: each one is
   * terminated, which Temporal answers only once the execution is closed, so no attempt starts
   * after the purge answers. Then each execution is deleted, since its history holds the event too.
   */
  async function removeWorkflows(tenant: string, events: PurgedEvent[], by: string): Promise<void> {
    const workflowIds = events.flatMap((e) => [
      e.workflowId,
      ...Array.from({ length: e.replays ?? 0 }, (_, i) => replayWorkflowId(tenant, e.id, i + 1)),
    ]);
    await mapConcurrent(workflowIds, 16, (workflowId) =>
      callTemporal(deps.connection, () => terminateIfRunning(deps.temporal, workflowId, `purged by ${by}`)),
    );
    await mapConcurrent(workflowIds, 16, (workflowId) => deleteExecution(workflowId));
  }

  /**
   * Asks Temporal to delete the closed execution. Temporal removes the history in the
   * background, some seconds later (about 20 s on the dev server), so the purge does not wait
   * for it: the terminate above is what stops the sending.
   */
  async function deleteExecution(workflowId: string): Promise<void> {
    const { namespace } = deps.temporal.options;
    try {
      await callTemporal(deps.connection, () => deps.temporal.workflowService.deleteWorkflowExecution({ namespace, workflowExecution: { workflowId } }));
    } catch (err) {
      if ((err as { code?: number }).code !== GRPC_NOT_FOUND) throw err;
    }
  }

  async function purge(principal: Principal, select: (limit: number) => ReturnType<typeof purgeBatch>): Promise<number> {
    const by = `key:${principal.keyId}`;
    let purged = 0;
    for (;;) {
      const batch = await select(BATCH);
      if (batch.length === 0) return purged;
      try {
        await removeWorkflows(principal.tenant, batch, by);
      } catch (err) {
        // Temporal went away part way: some workflows of this batch may be stopped already.
        if (err instanceof ProblemError && err.status === 503) {
          throw unavailable(`Temporal is unavailable; the purge stopped part way (${purged} events removed, the rest still in the audit, some of their workflows stopped). Run the same purge again to finish it.`);
        }
        throw err;
      }
      purged += await deleteEventsWithAudit(deps.store, principal.tenant, batch.map((e) => e.id));
      if (batch.length < BATCH) return purged;
    }
  }

  async function record(principal: Principal, filter: Record<string, unknown>, count: number): Promise<string> {
    const id = `herald:purge:${ulid()}`;
    const now = new Date().toISOString();
    await announce(deps, principal.tenant, {
      id,
      type: PURGED_EVENT_TYPE,
      data: { filter, count, by: `key:${principal.keyId}` },
      actor: `key:${principal.keyId}`,
      source: 'herald',
      occurredAt: now,
      receivedAt: now,
    });
    return id;
  }

  router.delete('/:id', requireScope('events:purge'), async (req, res) => {
    const principal = principalOf(res);
    const id = String(req.params.id);
    const doc = await findEvent(deps.store, principal.tenant, id);
    if (!doc) throw notFound(`event ${id}`);
    if (doc.type === PURGED_EVENT_TYPE) throw new ProblemError(409, 'Conflict', 'The record of a purge cannot be purged.');
    const purged = await purge(principal, async () => ((await findEvent(deps.store, principal.tenant, id)) ? [doc] : []));
    const recordId = await record(principal, { id }, purged);
    res.json({ purged, recordId });
  });

  router.post('/purge', requireScope('events:purge'), async (req, res) => {
    const principal = principalOf(res);
    const input: PurgeInput = parseOrThrow(purgeSchema, req.body);
    const filter: EventFilterQuery = input;
    const purged = await purge(principal, (limit) => purgeBatch(deps.store, principal.tenant, filter, limit));
    const recordId = await record(principal, input, purged);
    res.json({ purged, recordId });
  });

  return router;
}
