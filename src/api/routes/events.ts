import { Router, type Request, type Response } from 'express';
import {
  deliveryControlSchema,
  eventBatchSchema,
  ingestedEventSchema,
  eventListQuerySchema,
  type EventDetail,
  type EventView,
  type HeraldEvent,
} from '../../domain/schemas';
import { DIGEST_EVENT_TYPE, type DigestData } from '../../domain/digest';
import { isFinal, type DeliveryStatus } from '../../domain/status';
import type { EventDoc } from '../../store';
import { attemptsForEvent, deliveriesForEvent } from '../../store/deliveries';
import { eventOf, findEvent, listEvents, isStoringDeliveries, liveEventStatus, nextReplayNumber } from '../../store/events';
import { findSubscription } from '../../store/subscriptions';
import { acceptedEvent } from '../../temporal/accepted-event';
import { heldEvent } from '../../temporal/event-batches';
import { sendRetry, signalIfRunning, startDeliverEvent } from '../../temporal/deliver-event-client';
import { eventWorkflowId, replayWorkflowId } from '../../temporal/names';
import { cancelSignal, retrySignal, statusQuery, type ControlRequest } from '../../workflows/definitions';
import { principalOf, requireScope } from '../auth';
import { batchesClosed } from '../batch-waits';
import { completeEvent, ingest, ingestLater, type Accepted, type IngestDeps } from '../ingest';
import { checkIngestLimits, limitsOf, visibleTo } from '../key-limits';
import { checkIdParam, issuesOf, notFound, parseOrThrow, problemBody, validationProblem } from '../problem';
import { createEventDataValidator } from '../event-type-schemas';
import { requestVersions, type TenantVersionsReader } from '../tenant-versions';
import { ingestGate } from '../load-shedding';
import { ingestLimiter } from '../rate-limit';
import { callTemporal, RETRY_AFTER_SECONDS, unavailable } from '../temporal-call';
import { attemptView, deliveryView } from '../views';

/** How long a read waits for a worker to answer the workflow's `status` query. */
const QUERY_DEADLINE_MS = 2000;

/** How long a cancel or retry of an event a batch still holds waits for the batch to start it. */
const HELD_WAIT_MS = 20_000;
const HELD_POLL_MS = 200;

/**
 * RFC 7240's `Prefer: respond-async`: a batch sent with it is answered once one workflow holding
 * it has started, instead of once each of its events' workflows has (`ingestLater`).
 */
function prefersAsync(req: Request): boolean {
  return (req.get('prefer') ?? '').split(/[,;]/).some((preference) => preference.trim().toLowerCase() === 'respond-async');
}

/** Events: ingestion (single and batch) and the audit's read routes. */
export function eventsRouter(
  deps: IngestDeps & { ingestRate: number; maxPendingStarts?: number; versionsOf: TenantVersionsReader },
): Router {
  const router = Router();
  router.param('id', checkIdParam('event'));
  const limitIngest = ingestLimiter(deps.ingestRate);
  const gate = ingestGate(deps.maxPendingStarts ?? 500);
  const validateData = createEventDataValidator(deps.store);

  router.post('/', requireScope('events:write'), async (req, res) => {
    const { tenant, keyId } = principalOf(res);
    const body: unknown = req.body;
    const isBatch = typeof body === 'object' && body !== null && !Array.isArray(body) && 'events' in body;
    const items = isBatch && Array.isArray(body.events) ? (body as { events: unknown[] }).events.length : 1;
    const later = isBatch && prefersAsync(req);
    await limitIngest.admit(keyId, items);
    // The gate bounds workflow starts in flight: a batch accepted to start later makes one.
    const release = gate.admit(later ? 1 : items);
    try {
      await accept(res, tenant, body, isBatch, later);
    } finally {
      release();
    }
    await limitIngest.charge(keyId, items);
  });

  async function accept(res: Response, tenant: string, body: unknown, isBatch: boolean, later: boolean): Promise<void> {
    const now = new Date();

    if (!isBatch) {
      const input = parseOrThrow(ingestedEventSchema, body);
      const versions = await requestVersions(res, tenant, deps.versionsOf);
      const [issues] = await validateData.check(tenant, [input], versions?.eventTypes);
      if (issues.length) throw validationProblem(issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
      checkIngestLimits(res, [{ event: input, prefix: '' }]);
      const [result] = await ingest(
        deps,
        tenant,
        [completeEvent(input, now)],
        new Set(input.id ? [input.id] : []),
        versions?.subscriptions,
      );
      if (result.error) throw unavailable(result.error);
      res.status(202).json(result);
      return;
    }

    const batch = parseOrThrow(eventBatchSchema, body);
    const errors: { path: string; message: string }[] = [];
    const clientIds = new Set<string>();
    const events = batch.events.map((item, i) => {
      const parsed = ingestedEventSchema.safeParse(item);
      if (!parsed.success) errors.push(...issuesOf(parsed.error, ['events', i]));
      else if (parsed.data.id) clientIds.add(parsed.data.id);
      return parsed.success ? completeEvent(parsed.data, now) : null;
    });
    const valid = events.flatMap((e, i) => (e ? [{ event: e, index: i }] : []));
    const versions = await requestVersions(res, tenant, deps.versionsOf);
    const dataIssues = await validateData.check(
      tenant,
      valid.map((v) => v.event),
      versions?.eventTypes,
    );
    dataIssues.forEach((issues, k) =>
      errors.push(...issues.map((i) => ({ path: ['events', valid[k].index, ...i.path].join('.'), message: i.message }))),
    );
    if (errors.length) throw validationProblem(errors); // nothing of an invalid batch is started
    checkIngestLimits(
      res,
      valid.map((v) => ({ event: v.event, prefix: `events.${v.index}.` })),
    );
    if (later) {
      const accepted = await ingestLater(
        deps,
        tenant,
        events.map((e) => e!),
        versions?.subscriptions,
      );
      res.status(202).set('Preference-Applied', 'respond-async').json(accepted);
      return;
    }
    const results: Accepted[] = await ingest(
      deps,
      tenant,
      events.map((e) => e!),
      clientIds,
      versions?.subscriptions,
    );
    if (results.some((r) => r.error)) {
      // Some items could not be started: 503 so clients retry, with per-item results so they
      // know which; resending the whole batch with the same ids is safe.
      const problem = problemBody(
        503,
        'Service unavailable',
        'Temporal did not take some items: those with "error" were not accepted, and say why.',
      );
      res
        .status(503)
        .set('Retry-After', RETRY_AFTER_SECONDS)
        .type('application/problem+json')
        .send(JSON.stringify({ ...problem, results }));
      return;
    }
    res.status(202).json({ results });
  }

  router.get('/', requireScope('events:read'), async (req, res) => {
    const { tenant } = principalOf(res);
    const query = parseOrThrow(eventListQuerySchema, req.query);
    const page = await listEvents(deps.store, tenant, query, limitsOf(res));
    res.json({ data: page.data.map((d) => ({ ...eventOf(d), status: d.status })), nextCursor: page.nextCursor });
  });

  router.get('/:id', requireScope('events:read'), async (req, res) => {
    const { tenant } = principalOf(res);
    const id = String(req.params.id);
    const doc = await findEvent(deps.store, tenant, id);
    if (!doc) {
      res.json(await unrecordedEvent(deps, res, tenant, id));
      return;
    }
    visibleTo(res, doc, id);
    const deliveries = await deliveriesForEvent(deps.store, tenant, id);
    const view: EventDetail = {
      event: eventOf(doc),
      status: liveEventStatus(doc, deliveries),
      deliveries: deliveries.map(deliveryView),
      filteredOut: doc.filteredOut ?? [],
    };
    res.json(view);
  });

  router.get('/:id/attempts', requireScope('events:read'), async (req, res) => {
    const { tenant } = principalOf(res);
    const id = String(req.params.id);
    const doc = await findEvent(deps.store, tenant, id);
    if (!doc) {
      // Accepted and not yet recorded: no attempt can have been made.
      visibleTo(res, (await acceptedOrHeldEvent(deps, tenant, id))?.event ?? null, id);
      res.json({ data: [], nextCursor: null });
      return;
    }
    visibleTo(res, doc, id);
    const attempts = await attemptsForEvent(deps.store, tenant, doc.id);
    res.json({ data: attempts.map(attemptView), nextCursor: null });
  });

  /** The request a route sends as a signal: one subscription or all, and who asked. */
  async function controlRequest(res: Response, body: unknown, tenant: string): Promise<ControlRequest> {
    const { subscriptionId } = parseOrThrow(deliveryControlSchema, body ?? {});
    if (subscriptionId && !(await findSubscription(deps.store, tenant, subscriptionId))) throw notFound(`subscription ${subscriptionId}`);
    return { ...(subscriptionId && { subscriptionId }), requestedBy: `key:${principalOf(res).keyId}` };
  }

  async function loadEvent(res: Response, tenant: string, id: string): Promise<EventDoc> {
    return visibleTo(res, await findEvent(deps.store, tenant, id), id);
  }

  /**
   * The event a control route concerns, from the audit, or null when the audit does not hold it
   * yet. For a limited key, an event not yet recorded is looked up in its workflow, since its
   * type and subject decide whether the key may steer it.
   */
  async function controlledEvent(res: Response, tenant: string, id: string): Promise<EventDoc | null> {
    const doc = await findEvent(deps.store, tenant, id);
    if (doc) return visibleTo(res, doc, id);
    if (limitsOf(res)) visibleTo(res, (await acceptedOrHeldEvent(deps, tenant, id))?.event ?? null, id);
    return null;
  }

  /**
   * Signals an accepted event's own workflow; when none runs yet but a batch still starting
   * holds the event, waits for the batch to start it. False when nothing holds the event.
   */
  async function signalAccepted(tenant: string, id: string, signal: typeof cancelSignal, request: ControlRequest): Promise<boolean> {
    const workflowId = eventWorkflowId(tenant, id);
    const send = () => callTemporal(deps.connection, () => signalIfRunning(deps.temporal, workflowId, signal, request));
    if (await send()) return true;
    const held = await callTemporal(deps.connection, () => heldEvent(deps.temporal, tenant, id));
    if (!held) return send(); // a batch may have started it since the first try, and closed
    const until = Date.now() + HELD_WAIT_MS;
    for (;;) {
      if (await send()) return true;
      if (await batchesClosed(deps, [held.batch], HELD_POLL_MS)) return send();
      if (Date.now() >= until) {
        throw unavailable(
          `Event ${id} is in a batch that has not started its workflow yet (${held.batch.workflowId}); nothing was changed, send this again.`,
        );
      }
    }
  }

  /** The workflows (the event's and its replays') holding deliveries this request concerns. */
  async function workflowsWith(doc: EventDoc, request: ControlRequest, wanted: (status: DeliveryStatus) => boolean): Promise<string[]> {
    const deliveries = await deliveriesForEvent(deps.store, doc.tenant, doc.id);
    const ids = deliveries
      .filter((d) => (!request.subscriptionId || d.subscriptionId === request.subscriptionId) && wanted(d.status))
      .map((d) => d.workflowId);
    // Before its deliveries are opened, or while its first attempts are storing them (the
    // event's claim), the event's own run is the one to tell.
    if (doc.status === 'delivering' && (isStoringDeliveries(doc) || !deliveries.some((d) => d.workflowId === doc.workflowId)))
      ids.unshift(doc.workflowId);
    return [...new Set(ids)];
  }

  /**
   * The recorded event a control route acts on, or null once `signal` reached the workflow of an
   * event accepted a moment ago and not yet in the audit (its workflow is then the only place to
   * ask; answered 202 here). One whose run ended while this waited for its batch is recorded by
   * then, and acted on as recorded; 404 when nothing holds the id.
   */
  async function recordedOrSignal(
    res: Response,
    tenant: string,
    id: string,
    signal: typeof cancelSignal,
    request: ControlRequest,
  ): Promise<EventDoc | null> {
    const doc = await controlledEvent(res, tenant, id);
    if (doc) return doc;
    if (await signalAccepted(tenant, id, signal, request)) {
      res.status(202).json({ workflowIds: [eventWorkflowId(tenant, id)] });
      return null;
    }
    const recorded = await controlledEvent(res, tenant, id);
    if (!recorded) throw notFound(`event ${id}`);
    return recorded;
  }

  router.post('/:id/cancel', requireScope('events:write'), async (req, res) => {
    const { tenant } = principalOf(res);
    const request = await controlRequest(res, req.body, tenant);
    const doc = await recordedOrSignal(res, tenant, String(req.params.id), cancelSignal, request);
    if (!doc) return;
    const signalled: string[] = [];
    for (const workflowId of await workflowsWith(doc, request, (s) => !isFinal(s))) {
      if (await callTemporal(deps.connection, () => signalIfRunning(deps.temporal, workflowId, cancelSignal, request)))
        signalled.push(workflowId);
    }
    res.status(202).json({ workflowIds: signalled });
  });

  router.post('/:id/retry', requireScope('events:write'), async (req, res) => {
    const { tenant } = principalOf(res);
    const request = await controlRequest(res, req.body, tenant);
    const doc = await recordedOrSignal(res, tenant, String(req.params.id), retrySignal, request);
    if (!doc) return;
    const workflowIds = await workflowsWith(doc, request, (s) => s === 'failed' || !isFinal(s));
    const event = eventOf(doc);
    for (const workflowId of workflowIds) {
      await callTemporal(deps.connection, () =>
        sendRetry(deps.temporal, deps.taskQueue, workflowId, { tenant, event, mode: { kind: 'resume' } }, request),
      );
    }
    res.status(202).json({ workflowIds });
  });

  router.post('/:id/replay', requireScope('events:write'), async (req, res) => {
    const { tenant } = principalOf(res);
    const { subscriptionId } = await controlRequest(res, req.body, tenant);
    const doc = await loadEvent(res, tenant, String(req.params.id));
    // A digest Herald sent goes again to its own subscription, as the digest of the events it lists.
    const event = eventOf(doc);
    const digestOf =
      event.type === DIGEST_EVENT_TYPE && event.source === 'herald' ? (event.data as unknown as DigestData).subscriptionId : null;
    if (digestOf && subscriptionId && subscriptionId !== digestOf) {
      throw validationProblem([{ path: 'subscriptionId', message: `a digest is replayed to its own subscription, ${digestOf}` }]);
    }
    const n = await nextReplayNumber(deps.store, tenant, doc.id);
    if (n === null) throw notFound(`event ${doc.id}`);
    const workflowId = replayWorkflowId(tenant, doc.id, n);
    await callTemporal(deps.connection, () =>
      startDeliverEvent(deps.temporal, deps.taskQueue, workflowId, {
        tenant,
        event,
        mode: digestOf
          ? { kind: 'replay', subscriptionId: digestOf, digest: true }
          : { kind: 'replay', ...(subscriptionId && { subscriptionId }) },
      }),
    );
    res.status(202).json({ workflowId });
  });

  return router;
}

/**
 * An accepted event the audit does not hold yet: its workflow's own view, with its
 * deliveries, once a worker has run it; before that (a backlog holds its first task, so no
 * worker can answer a query) the event it was started with, still delivering.
 */
async function unrecordedEvent(deps: IngestDeps, res: Response, tenant: string, id: string): Promise<EventDetail> {
  const accepted = await acceptedOrHeldEvent(deps, tenant, id);
  const event = visibleTo(res, accepted?.event ?? null, id);
  // Held by a batch that has not started its workflow: nothing has matched or sent it yet.
  if (accepted?.held) return { event, status: 'delivering', deliveries: [], filteredOut: [] };
  let view: EventView;
  try {
    const handle = deps.temporal.workflow.getHandle(eventWorkflowId(tenant, id));
    view = await deps.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(statusQuery));
  } catch {
    return { event, status: 'delivering', deliveries: [], filteredOut: [] };
  }
  // The run does not report what filters left out; the audit has it once the run has opened the event.
  const recorded = await findEvent(deps.store, tenant, id);
  return { ...view, filteredOut: recorded?.filteredOut ?? [] };
}

/**
 * An accepted event the audit does not hold yet: from its own workflow, or from a batch
 * accepted with `Prefer: respond-async` that has not started that workflow yet. An event moves
 * from the batch to its workflow before the batch closes, so asking the workflow again after
 * the batches catches one that moved in between.
 */
async function acceptedOrHeldEvent(deps: IngestDeps, tenant: string, id: string): Promise<{ event: HeraldEvent; held: boolean } | null> {
  const lookUp = async () => {
    const event = await callTemporal(deps.connection, () => acceptedEvent(deps.temporal, tenant, id));
    return event && { event, held: false };
  };
  const started = await lookUp();
  if (started) return started;
  const held = await callTemporal(deps.connection, () => heldEvent(deps.temporal, tenant, id));
  return held ? { event: held.event, held: true } : lookUp();
}
