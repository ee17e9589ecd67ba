import { WorkflowExecutionAlreadyStartedError, type Client, type Connection } from '@temporalio/client';
import { newEventId } from '../domain/ids';
import type { EventInput, HeraldEvent } from '../domain/schemas';
import type { Logger } from '../logger';
import type { ApiMetrics } from '../metrics';
import type { Store } from '../store';
import { existingEventIds } from '../store/events';
import { DELIVER_EVENT_WORKFLOW, eventWorkflowId } from '../temporal/names';
import { HeraldEventType, HeraldStatus, HeraldTenant } from '../temporal/search-attributes';
import { isUnavailable } from '../temporal/client';
import type { deliverEvent } from '../workflows/deliver-event';

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

/** How long one start may wait for Temporal before the caller is told 503. */
const START_DEADLINE_MS = 5000;
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
 * retention are caught by the audit look-up.
 */
export async function ingest(deps: IngestDeps, tenant: string, events: HeraldEvent[]): Promise<Accepted[]> {
  let known = new Map<string, string>();
  try {
    known = await existingEventIds(deps.store, tenant, events.map((e) => e.id));
  } catch (err) {
    // The audit look-up only catches duplicates older than Temporal's retention; the
    // workflow's own idempotent record still catches them, so a store outage must not block intake.
    deps.logger.warn({ err }, 'audit look-up for duplicate ids failed; starting workflows anyway');
  }
  const results: Accepted[] = new Array(events.length);
  let next = 0;
  const worker = async () => {
    while (next < events.length) {
      const i = next++;
      const event = events[i];
      const workflowId = known.get(event.id);
      results[i] = workflowId ? { id: event.id, workflowId, duplicate: true } : await start(deps, tenant, event);
      if (!results[i].error) deps.metrics.eventsAccepted.inc({ duplicate: String(results[i].duplicate) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(START_CONCURRENCY, events.length) }, worker));
  return results;
}

async function start(deps: IngestDeps, tenant: string, event: HeraldEvent): Promise<Accepted> {
  const workflowId = eventWorkflowId(tenant, event.id);
  try {
    await deps.connection.withDeadline(Date.now() + START_DEADLINE_MS, () =>
      deps.temporal.workflow.start<typeof deliverEvent>(DELIVER_EVENT_WORKFLOW, {
        workflowId,
        taskQueue: deps.taskQueue,
        args: [{ tenant, event }],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        typedSearchAttributes: [
          { key: HeraldTenant, value: tenant },
          { key: HeraldEventType, value: event.type },
          { key: HeraldStatus, value: 'delivering' },
        ],
      }),
    );
    return { id: event.id, workflowId, duplicate: false };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { id: event.id, workflowId, duplicate: true };
    if (isUnavailable(err)) {
      deps.logger.warn({ err, workflowId }, 'Temporal unavailable; event not accepted');
      return { id: event.id, workflowId, duplicate: false, error: 'Temporal is unavailable; resend this event with the same id' };
    }
    throw err;
  }
}
