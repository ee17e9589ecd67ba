import type { Client, Connection } from '@temporalio/client';
import { mapConcurrent } from '../concurrency';
import { newEventId } from '../domain/ids';
import type { AcceptedLaterBatch, EventInput, HeraldEvent } from '../domain/schemas';
import type { Logger } from '../logger';
import type { ApiMetrics } from '../metrics';
import type { Store } from '../store';
import { existingEventIds } from '../store/events';
import { isUnavailable, refusedSearchAttribute } from '../temporal/client';
import { callTemporal, searchAttributeMissing, TEMPORAL_DEADLINE_MS, unavailable } from './temporal-call';
import { startDeliverEvent } from '../temporal/deliver-event-client';
import { BATCH_SLOTS_PER_TENANT, startEventBatch } from '../temporal/event-batches';
import { eventWorkflowId } from '../temporal/names';
import { HERALD_SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import type { DeliverEventInput, StartEventsInput } from '../workflows/definitions';

export interface IngestDeps {
  temporal: Client;
  connection: Connection;
  store: Store;
  taskQueue: string;
  metrics: ApiMetrics;
  logger: Logger;
}

export interface Accepted {
  id: string;
  workflowId: string;
  duplicate: boolean;
  error?: string;
}

/** How long ingestion waits for the audit's duplicate look-up before going on without it. */
const AUDIT_LOOKUP_MS = 1_000;

function withinMs<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  work.catch(() => undefined); // answered after the deadline: nobody waits for it any more
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** Starts in flight at once per request: a 500-event batch finishes in a few round trips. */
const START_CONCURRENCY = 32;

export function completeEvent(input: EventInput, now: Date): HeraldEvent {
  return {
    ...input,
    id: input.id ?? newEventId(),
    occurredAt: input.occurredAt ? new Date(input.occurredAt).toISOString() : now.toISOString(),
    receivedAt: now.toISOString(),
  };
}

/**
 * Accepts events by starting their workflows; the workflow, not the API, writes the audit,
 * so an answered start is the one durable record and nothing is written twice. The
 * workflow id is the event id: Temporal refuses a second start of the same id (also after
 * the first run closed), which makes racing duplicates safe; ids older than Temporal's
 * retention are caught by the audit look-up. Only ids the client chose are looked up: an id
 * Herald made (`clientIds` lacks it) is new by construction, so most events cost no read.
 * `subscriptionsVersion`, as new as any change answered before the request was sent
 * (`tenantVersionsReader`), goes to each workflow (see
 * `DeliverEventInput`).
 */
export async function ingest(
  deps: IngestDeps,
  tenant: string,
  events: HeraldEvent[],
  clientIds: ReadonlySet<string>,
  subscriptionsVersion?: number,
): Promise<Accepted[]> {
  let known = new Map<string, string>();
  try {
    known = await withinMs(
      AUDIT_LOOKUP_MS,
      existingEventIds(
        deps.store,
        tenant,
        events.map((e) => e.id).filter((id) => clientIds.has(id)),
      ),
    );
  } catch (err) {
    // The audit look-up only catches duplicates older than Temporal's retention; the
    // workflow's own idempotent record still catches them, so a slow or stopped store must
    // not hold intake up: past AUDIT_LOOKUP_MS the events are started without it.
    deps.logger.warn({ err }, 'audit look-up for duplicate ids failed; starting workflows anyway');
  }
  let refusal: { err: unknown; attribute: string } | undefined;
  const results = await mapConcurrent(events, START_CONCURRENCY, async (event) => {
    const workflowId = known.get(event.id);
    const result: Accepted = workflowId
      ? { id: event.id, workflowId, duplicate: true }
      : await start(
          deps,
          {
            tenant,
            event,
            ...(subscriptionsVersion !== undefined && { subscriptionsVersion }),
          },
          (err, attribute) => (refusal ??= { err, attribute }),
        );
    if (!result.error) deps.metrics.eventsAccepted.inc({ duplicate: String(result.duplicate) });
    return result;
  });
  // Once per request: every start of a batch meets the same namespace.
  if (refusal) {
    deps.logger.error(
      { err: refusal.err, tenant },
      `Temporal's namespace refused Herald's search attribute ${refusal.attribute}; events not accepted`,
    );
  }
  return results;
}

async function start(deps: IngestDeps, input: DeliverEventInput, refused: (err: unknown, attribute: string) => void): Promise<Accepted> {
  const { tenant, event } = input;
  const workflowId = eventWorkflowId(tenant, event.id);
  try {
    const started = await deps.connection.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () =>
      startDeliverEvent(deps.temporal, deps.taskQueue, workflowId, input),
    );
    return { id: event.id, workflowId, duplicate: !started };
  } catch (err) {
    if (isUnavailable(err)) {
      deps.logger.warn({ err, workflowId }, 'Temporal unavailable; event not accepted');
      return { id: event.id, workflowId, duplicate: false, error: 'Temporal is unavailable; resend this event with the same id' };
    }
    const attribute = refusedSearchAttribute(err);
    if (attribute) {
      refused(err, attribute);
      return { id: event.id, workflowId, duplicate: false, error: searchAttributeMissing(attribute, 'resend this event with the same id') };
    }
    throw err;
  }
}

/** Namespaces found to hold all of Herald's search attributes, once per client. */
const attributesChecked = new WeakSet<Client>();

/**
 * A batch's workflow carries only `HeraldTenant`, so Temporal would take it in a namespace that
 * lacks the attributes its events' workflows need, and those starts would then fail, after the
 * answer. So the namespace is checked before the first batch is accepted (once it is found
 * complete, never again: attributes are not removed from a namespace in use).
 */
async function requireSearchAttributes(deps: IngestDeps): Promise<void> {
  if (attributesChecked.has(deps.temporal)) return;
  const { customAttributes } = await callTemporal(deps.connection, () =>
    deps.connection.operatorService.listSearchAttributes({ namespace: deps.temporal.options.namespace }),
  );
  const missing = HERALD_SEARCH_ATTRIBUTES.find((key) => !(key.name in (customAttributes ?? {})));
  if (missing) {
    deps.logger.error(
      { attribute: missing.name },
      `Temporal's namespace lacks Herald's search attribute ${missing.name}; batch not accepted`,
    );
    throw unavailable(searchAttributeMissing(missing.name, 'resend this batch with the same ids'));
  }
  attributesChecked.add(deps.temporal);
}

/**
 * Accepts a batch by starting one workflow that holds it (`startEvents`), which then starts
 * each event's workflow: one start per batch instead of one per event, so a caller sending
 * many batches is answered at the rate the API validates them. The answer is as durable as
 * `ingest`'s; what it cannot say is which ids were duplicates, as nothing has looked yet.
 * A tenant has at most `BATCH_SLOTS_PER_TENANT` batches starting; past them, 503.
 */
export async function ingestLater(
  deps: IngestDeps,
  tenant: string,
  events: HeraldEvent[],
  subscriptionsVersion?: number,
): Promise<AcceptedLaterBatch> {
  await requireSearchAttributes(deps);
  const input: StartEventsInput = { tenant, events, ...(subscriptionsVersion !== undefined && { subscriptionsVersion }) };
  const batch = await callTemporal(deps.connection, () => startEventBatch(deps.temporal, deps.taskQueue, input));
  if (!batch) {
    throw unavailable(
      `This tenant has ${BATCH_SLOTS_PER_TENANT} batches still starting their events; nothing of this one was accepted: resend it with the same ids`,
    );
  }
  deps.metrics.eventsAccepted.inc({ duplicate: 'unknown' }, events.length);
  return { ...batch, results: events.map((e) => ({ id: e.id, workflowId: eventWorkflowId(tenant, e.id) })) };
}
