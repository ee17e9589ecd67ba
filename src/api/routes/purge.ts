import { Router } from 'express';
import { ulid } from 'ulid';
import { mapConcurrent } from '../../concurrency';
import { purgeSchema, type EventFilterQuery, type PurgeInput } from '../../domain/schemas';
import { isFinal } from '../../domain/status';
import type { EventDoc } from '../../store';
import { deliveriesForEvent } from '../../store/deliveries';
import { deleteEventsWithAudit, findEvent, purgeBatch, PURGED_EVENT_TYPE } from '../../store/events';
import { signalIfRunning } from '../../temporal/deliver-event-client';
import { cancelSignal } from '../../workflows/definitions';
import { announce } from '../announce';
import { principalOf, requireScope, type Principal } from '../auth';
import type { IngestDeps } from '../ingest';
import { checkIdParam, notFound, parseOrThrow, ProblemError } from '../problem';
import { callTemporal } from '../temporal-call';

/** Events removed per round: one query selects them, three delete them with their audit. */
const BATCH = 200;
/** How long a cancelled workflow gets to close before the purge goes on. */
const CLOSE_WAIT_MS = 10_000;
const GRPC_NOT_FOUND = 5;

/**
 * Purge: removes events that should not be there (wrong data, a test run in production),
 * with their deliveries and attempts. Deliveries still running are cancelled first and their
 * workflows closed, so nothing is sent after the answer. Each purge leaves a
 * `herald.events.purged` event, which no purge removes.
 */
export function purgeRouter(deps: IngestDeps): Router {
  const router = Router();
  router.param('id', checkIdParam('event'));

  /**
   * Stops and removes the workflows of these events (and of their replays): those still
   * delivering get a `cancel` and a moment to close, so nothing is sent after the purge
   * answers; then each execution is deleted from Temporal, whose history holds the event too.
   */
  async function removeWorkflows(tenant: string, events: Pick<EventDoc, 'id' | 'status' | 'workflowId'>[], by: string): Promise<void> {
    const running = new Set<string>();
    const all = new Set<string>();
    for (const e of events) {
      all.add(e.workflowId);
      if (e.status === 'delivering') running.add(e.workflowId);
      for (const d of await deliveriesForEvent(deps.store, tenant, e.id)) {
        all.add(d.workflowId);
        if (!isFinal(d.status)) running.add(d.workflowId);
      }
    }
    await mapConcurrent([...running], 16, (workflowId) => cancelAndWait(workflowId, by));
    await mapConcurrent([...all], 16, (workflowId) => deleteExecution(workflowId));
  }

  async function cancelAndWait(workflowId: string, by: string): Promise<void> {
    if (!(await callTemporal(deps.connection, () => signalIfRunning(deps.temporal, workflowId, cancelSignal, { requestedBy: by })))) return;
    await Promise.race([
      deps.temporal.workflow.getHandle(workflowId).result().catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref()),
    ]);
  }

  /**
   * Asks Temporal to delete the execution (terminating it if still open). Temporal removes the
   * history in the background, some seconds later (about 20 s on the dev server), so the purge
   * does not wait for it: the cancel above is what stops the sending.
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
      await removeWorkflows(principal.tenant, batch, by);
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
