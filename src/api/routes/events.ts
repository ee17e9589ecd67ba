import { WorkflowNotFoundError } from '@temporalio/client';
import { Router } from 'express';
import { eventBatchSchema, eventInputSchema, eventListQuerySchema, type EventView } from '../../domain/schemas';
import { eventStatusOf } from '../../domain/status';
import { attemptsForEvent, attemptView, deliveriesForEvent, deliveryView } from '../../store/deliveries';
import { eventOf, findEvent, InvalidCursorError, listEvents } from '../../store/events';
import { eventWorkflowId } from '../../temporal/names';
import { statusQuery } from '../../workflows/definitions';
import { principalOf, requireScope } from '../auth';
import { completeEvent, ingest, type Accepted, type IngestDeps } from '../ingest';
import { issuesOf, notFound, parseOrThrow, ProblemError, problemBody, validationProblem } from '../problem';

const RETRY_AFTER_SECONDS = '5';

/** Events: ingestion (single and batch) and the audit's read routes. */
export function eventsRouter(deps: IngestDeps): Router {
  const router = Router();

  router.post('/', requireScope('events:write'), async (req, res) => {
    const { tenant } = principalOf(res);
    const body: unknown = req.body;
    const isBatch = typeof body === 'object' && body !== null && !Array.isArray(body) && 'events' in body;
    const now = new Date();

    if (!isBatch) {
      const input = parseOrThrow(eventInputSchema, body);
      const [result] = await ingest(deps, tenant, [completeEvent(input, now)]);
      if (result.error) throw unavailable(result.error);
      res.status(202).json(result);
      return;
    }

    const batch = parseOrThrow(eventBatchSchema, body);
    const errors: { path: string; message: string }[] = [];
    const events = batch.events.map((item, i) => {
      const parsed = eventInputSchema.safeParse(item);
      if (!parsed.success) errors.push(...issuesOf(parsed.error, ['events', i]));
      return parsed.success ? completeEvent(parsed.data, now) : null;
    });
    if (errors.length) throw validationProblem(errors); // nothing of an invalid batch is started
    const results: Accepted[] = await ingest(deps, tenant, events.map((e) => e!));
    if (results.some((r) => r.error)) {
      // Some items could not be started: 503 so clients retry, with per-item results so they
      // know which; resending the whole batch with the same ids is safe.
      const problem = problemBody(503, 'Service unavailable', 'Temporal is unavailable; items with "error" were not accepted.');
      res.status(503).set('Retry-After', RETRY_AFTER_SECONDS).type('application/problem+json').send(JSON.stringify({ ...problem, results }));
      return;
    }
    res.status(202).json({ results });
  });

  router.get('/', requireScope('events:read'), async (req, res) => {
    const { tenant } = principalOf(res);
    const query = parseOrThrow(eventListQuerySchema, req.query);
    try {
      const page = await listEvents(deps.store, tenant, query);
      res.json({ data: page.data.map((d) => ({ ...eventOf(d), status: d.status })), nextCursor: page.nextCursor });
    } catch (err) {
      if (err instanceof InvalidCursorError) throw validationProblem([{ path: 'cursor', message: err.message }]);
      throw err;
    }
  });

  router.get('/:id', requireScope('events:read'), async (req, res) => {
    const { tenant } = principalOf(res);
    const id = String(req.params.id);
    const doc = await findEvent(deps.store, tenant, id);
    if (!doc) {
      res.json(await queryWorkflow(deps, tenant, id));
      return;
    }
    const deliveries = await deliveriesForEvent(deps.store, tenant, id);
    const view: EventView = {
      event: eventOf(doc),
      // Before matching has opened any delivery, the stored status ("delivering") stands.
      status: deliveries.length ? eventStatusOf(deliveries) : doc.status,
      deliveries: deliveries.map(deliveryView),
    };
    res.json(view);
  });

  router.get('/:id/attempts', requireScope('events:read'), async (req, res) => {
    const { tenant } = principalOf(res);
    const doc = await findEvent(deps.store, tenant, String(req.params.id));
    if (!doc) throw notFound(`event ${String(req.params.id)}`);
    const attempts = await attemptsForEvent(deps.store, tenant, doc.id);
    res.json({ data: attempts.map(attemptView), nextCursor: null });
  });

  return router;
}

/**
 * An accepted event is in Temporal before its workflow writes the audit; for that short
 * moment the workflow's `status` query answers instead.
 */
async function queryWorkflow(deps: IngestDeps, tenant: string, id: string): Promise<EventView> {
  try {
    const handle = deps.temporal.workflow.getHandle(eventWorkflowId(tenant, id));
    return await deps.connection.withDeadline(Date.now() + 3000, () => handle.query(statusQuery));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw notFound(`event ${id}`);
    throw err;
  }
}

function unavailable(detail: string): ProblemError {
  return new ProblemError(503, 'Service unavailable', detail, undefined, { 'Retry-After': RETRY_AFTER_SECONDS });
}
